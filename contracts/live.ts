import { z } from 'zod';
import { DELIVERY_STATES, LevelSchema, TargetsSchema } from './broadcasts.js';

/**
 * Live talk from the console's microphone, over the Socket.IO namespace `/live` (same session as
 * the API; operators only). The console captures the microphone, sends it as 16-bit mono PCM, and
 * the platform encodes it once (MP3) into one HTTP stream that every target cluster plays. A clip
 * recorded the same way without targets goes straight into the media library.
 */
export const LIVE_NAMESPACE = '/live';

/** The PCM the console sends: little-endian signed 16-bit, one channel, at `sampleRate`. */
export const LIVE_SAMPLE_RATES = [16_000, 22_050, 24_000, 32_000, 44_100, 48_000] as const;

export const LiveStartSchema = z.discriminatedUnion('mode', [
  z.strictObject({
    mode: z.literal('broadcast'),
    name: z.string().trim().min(1).max(120).default('Phát trực tiếp'),
    level: LevelSchema,
    targets: TargetsSchema,
    volume: z.int().min(0).max(100).optional(),
    sampleRate: z.union(LIVE_SAMPLE_RATES.map((rate) => z.literal(rate))),
  }),
  z.strictObject({
    mode: z.literal('clip'),
    name: z.string().trim().min(1).max(120),
    sampleRate: z.union(LIVE_SAMPLE_RATES.map((rate) => z.literal(rate))),
  }),
]);
export type LiveStart = z.input<typeof LiveStartSchema>;

export const LiveStartedSchema = z.object({
  sessionId: z.string(),
  /** The broadcast in the log; null for a clip. */
  broadcastId: z.string().nullable(),
  /** The longest a talk lasts; it ends by itself then. */
  maxDurationS: z.int(),
  /** Without audio for this long (a lost connection), the talk ends everywhere. */
  silenceLimitS: z.int(),
});
export type LiveStarted = z.infer<typeof LiveStartedSchema>;

export const LiveStatusSchema = z.object({
  sessionId: z.string(),
  broadcastId: z.string().nullable(),
  elapsedS: z.number(),
  /** Seconds of microphone audio received. */
  receivedS: z.number(),
  /** Clusters reading the stream now. */
  listeners: z.int(),
  /** Deliveries by state (empty for a clip). */
  deliveries: z.partialRecord(z.enum(DELIVERY_STATES), z.int()),
});
export type LiveStatus = z.infer<typeof LiveStatusSchema>;

export const LIVE_END_REASONS = ['stopped', 'operator-lost', 'max-duration', 'pre-empted', 'failed'] as const;

export const LiveEndedSchema = z.object({
  sessionId: z.string(),
  broadcastId: z.string().nullable(),
  reason: z.enum(LIVE_END_REASONS),
  /** The recording in the media library (the broadcast log links it too); null if none was kept. */
  recordingMediaId: z.string().nullable(),
});
export type LiveEnded = z.infer<typeof LiveEndedSchema>;

export type LiveAck<T> = (
  result: { ok: true; value: T } | { ok: false; error: { code: string; message: string } },
) => void;

/** Console → platform on `/live`. */
export interface LiveClientToServerEvents {
  'live.start': (start: LiveStart, ack: LiveAck<LiveStarted>) => void;
  /** A chunk of PCM (see LIVE_SAMPLE_RATES); at most 1 s per chunk. */
  'live.audio': (pcm: ArrayBuffer | Uint8Array) => void;
  'live.stop': (ack: LiveAck<LiveEnded>) => void;
}

/** Platform → console on `/live`. */
export interface LiveServerToClientEvents {
  /** About once a second while a talk or clip runs. */
  'live.status': (status: LiveStatus) => void;
  'live.ended': (ended: LiveEnded) => void;
}
