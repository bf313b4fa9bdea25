import { z } from 'zod';

/** Unix epoch milliseconds, the one time format on the wire. */
// The lower bound (September 2001) catches the commonest firmware slip: seconds sent for milliseconds.
export const EpochMsSchema = z.int().min(1_000_000_000_000).describe('Unix epoch time in milliseconds (UTC)');
