import { z } from 'zod';

/** A simulated device's faults in demo mode: what can be injected and what is active. */
export const DemoFaultsSchema = z.object({
  deviceId: z.string(),
  kinds: z.array(z.object({ kind: z.string(), summary: z.string() })),
  active: z.array(z.string()),
});

export const FaultInjectSchema = z.strictObject({
  kind: z.string().min(1).max(40),
  arg: z.string().max(40).optional().describe('e.g. milliseconds, seconds, a speaker number'),
});
