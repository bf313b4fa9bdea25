import { z } from 'zod';
import { EpochMsSchema } from '../shared/time.js';

/*
 * The v1 speaker-cluster protocol. Device → platform messages accept unknown extra fields (newer
 * firmware may report more) but every listed field is checked; platform → device messages are
 * strict so firmware can rely on their exact shape. docs/protocol.md documents every field.
 */

export const NETWORK_KINDS = ['4g', 'wifi', 'ethernet'] as const;

export const StateMessageSchema = z.looseObject({
  online: z
    .boolean()
    .describe('true when published on connect; false in the last will and on a clean shutdown'),
  ts: EpochMsSchema,
  fw: z.string().min(1).max(64).optional().describe('firmware version'),
  model: z.string().max(64).optional(),
  speakers: z.int().min(1).max(16).optional().describe('number of speaker outputs'),
});
export type StateMessage = z.infer<typeof StateMessageSchema>;

export const SpeakerStatusSchema = z.looseObject({
  idx: z.int().min(1).max(16).describe('speaker output index, 1..n'),
  ok: z.boolean(),
  fault: z.string().max(64).optional().describe('fault code when ok is false, e.g. "open-circuit"'),
});
export type SpeakerStatus = z.infer<typeof SpeakerStatusSchema>;

/** The live stream a cluster is playing, as it reports it in its heartbeats (docs/protocol.md 6.2). */
export const STREAM_STATES = ['opening', 'decoding', 'gap', 'reconnecting', 'fault'] as const;
export const StreamHealthSchema = z.strictObject({
  broadcastId: z.string().min(1).max(64),
  state: z.enum(STREAM_STATES),
  decodedS: z.number().nonnegative().describe('seconds of audio decoded so far'),
  gaps: z.int().nonnegative().describe('pauses of more than a second in the arriving audio'),
  reconnects: z.int().nonnegative(),
});
export type StreamHealth = z.infer<typeof StreamHealthSchema>;

export const HeartbeatSchema = z.looseObject({
  ts: EpochMsSchema,
  seq: z.int().nonnegative().describe('increments by one per heartbeat, restarts at 0 on boot'),
  uptimeS: z.number().nonnegative(),
  rssiDbm: z.number().min(-140).max(0).describe('received signal strength, dBm'),
  net: z.enum(NETWORK_KINDS),
  volume: z.int().min(0).max(100).describe('master volume, percent'),
  power: z.boolean().optional().describe('amplifier power on'),
  playing: z.boolean(),
  speakers: z
    .array(SpeakerStatusSchema)
    .min(1)
    .max(16)
    .refine(
      (speakers) => speakers.every((s, i) => i === 0 || s.idx > (speakers[i - 1] as SpeakerStatus).idx),
      'one entry per output, in ascending idx, each output once',
    ),
  tempC: z.number().min(-40).max(125),
  supplyV: z.number().min(0).max(60),
  heartbeatIntervalS: z
    .int()
    .min(5)
    .max(3600)
    .optional()
    .describe('the interval the device heartbeats at now; the platform times its offline check by it'),
  stream: StreamHealthSchema.optional().describe('while a live stream (talk or relay) plays'),
});
export type Heartbeat = z.infer<typeof HeartbeatSchema>;

export const COMMAND_TYPES = [
  'play',
  'stop',
  'volume',
  'power',
  'ping',
  'reboot',
  'config',
  'selftest',
  'firmware',
] as const;
export type CommandType = (typeof COMMAND_TYPES)[number];

export const CommandIdSchema = z
  .string()
  .min(8)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/);

const commandBase = {
  id: CommandIdSchema.describe('unique command id; devices de-duplicate on it'),
  issuedAt: EpochMsSchema,
  expiresAt: EpochMsSchema.describe('the device rejects the command with error "expired" after this time'),
};

export const BroadcastIdSchema = z.string().min(1).max(64);

/** Media and stream sources: devices fetch only over HTTP(S), and firmware buffers are finite. */
const HttpUrlSchema = z.url({ protocol: /^https?$/ }).max(2048);

export const BROADCAST_LEVELS = ['normal', 'priority', 'emergency'] as const;
export type BroadcastLevel = (typeof BROADCAST_LEVELS)[number];

const MediaSourceSchema = z.strictObject({
  kind: z.literal('media'),
  url: HttpUrlSchema,
  sizeBytes: z.int().positive().optional(),
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/, 'lower-case hex SHA-256')
    .optional(),
  durationS: z.number().positive().optional(),
});

/** A programme holds at most this many items (jingles, bulletins, pauses). */
export const MAX_PROGRAMME_ITEMS = 32;

/** One item of a programme: an audio file, or a pause of silence. */
export const ProgrammeItemSourceSchema = z.discriminatedUnion('kind', [
  MediaSourceSchema,
  z.strictObject({ kind: z.literal('silence'), durationS: z.number().positive().max(600) }),
]);
export type ProgrammeItemSource = z.infer<typeof ProgrammeItemSourceSchema>;

/**
 * What became of each item of a programme, in order: `played` to its end, `cut` after its first
 * sound (stopped, pre-empted, endAt, or broken), `not-played` never heard.
 */
export const ITEM_OUTCOMES = ['played', 'cut', 'not-played'] as const;
export type ItemOutcome = (typeof ITEM_OUTCOMES)[number];

export const PlayCommandSchema = z.strictObject({
  ...commandBase,
  type: z.literal('play'),
  broadcastId: BroadcastIdSchema,
  level: z.enum(BROADCAST_LEVELS),
  source: z.discriminatedUnion('kind', [
    MediaSourceSchema,
    z.strictObject({ kind: z.literal('stream'), url: HttpUrlSchema }),
    z.strictObject({
      kind: z.literal('programme'),
      items: z
        .array(ProgrammeItemSourceSchema)
        .min(1)
        .max(MAX_PROGRAMME_ITEMS)
        .describe(
          'played in order, back to back, as one item; every media item is fetched before the first sound',
        ),
    }),
  ]),
  startAt: EpochMsSchema.describe('when playback starts; a time in the past means now'),
  endAt: EpochMsSchema.optional().describe('hard stop, for streams and time windows'),
  volume: z.int().min(0).max(100).optional(),
  repeat: z.int().min(1).max(20).default(1),
  attempt: z
    .int()
    .min(2)
    .max(1000)
    .optional()
    .describe('a fresh attempt of a play that failed fetch-failed before its first sound (absent = 1)'),
});

export const StopCommandSchema = z.strictObject({
  ...commandBase,
  type: z.literal('stop'),
  broadcastId: BroadcastIdSchema.optional(),
});
export const VolumeCommandSchema = z.strictObject({
  ...commandBase,
  type: z.literal('volume'),
  level: z.int().min(0).max(100),
});
export const PowerCommandSchema = z.strictObject({
  ...commandBase,
  type: z.literal('power'),
  on: z.boolean(),
});
export const PingCommandSchema = z.strictObject({ ...commandBase, type: z.literal('ping') });
export const RebootCommandSchema = z.strictObject({ ...commandBase, type: z.literal('reboot') });
export const ConfigCommandSchema = z.strictObject({
  ...commandBase,
  type: z.literal('config'),
  heartbeatIntervalS: z.int().min(5).max(3600).optional(),
});

/** A SHA-256 digest as the platform writes it: lower-case hex. */
const Sha256Schema = z.string().regex(/^[0-9a-f]{64}$/, 'lower-case hex SHA-256');

/**
 * A readiness drill (docs/protocol.md 6.3, `selftest`): download and decode a small test file and
 * check the amplifier and every speaker line, silently unless `tone` asks for a short test tone.
 */
export const SelftestCommandSchema = z.strictObject({
  ...commandBase,
  type: z.literal('selftest'),
  url: HttpUrlSchema.describe('a small test audio file (PCM WAV), signed; fetched without credentials'),
  sizeBytes: z.int().positive(),
  sha256: Sha256Schema,
  tone: z.boolean().optional().describe('play a short test tone on each line; absent or false: silent'),
});

/** A firmware version as devices report it in `state.fw`. */
export const FirmwareVersionSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[0-9A-Za-z][0-9A-Za-z._+-]*$/, 'letters, digits and . _ + -, starting with a letter or digit');

/** Download, verify, install and boot a firmware image (docs/protocol.md 6.3, `firmware`). */
export const FirmwareCommandSchema = z.strictObject({
  ...commandBase,
  type: z.literal('firmware'),
  url: HttpUrlSchema.describe('the image, signed; fetched without credentials'),
  sha256: Sha256Schema,
  sizeBytes: z.int().positive(),
  version: FirmwareVersionSchema.describe('what `state.fw` says once the image runs'),
});

export const CommandSchema = z.discriminatedUnion('type', [
  PlayCommandSchema,
  StopCommandSchema,
  VolumeCommandSchema,
  PowerCommandSchema,
  PingCommandSchema,
  RebootCommandSchema,
  ConfigCommandSchema,
  SelftestCommandSchema,
  FirmwareCommandSchema,
]);
export type Command = z.infer<typeof CommandSchema>;
export type CommandOf<T extends CommandType> = Extract<Command, { type: T }>;

/** One check of a selftest that is not a speaker line: the download, the decoder. */
export const SelftestCheckSchema = z.looseObject({
  ok: z.boolean(),
  error: z
    .string()
    .max(64)
    .optional()
    .describe('when not ok: fetch-failed, checksum-mismatch, undecodable, not-run'),
  message: z.string().max(200).optional(),
});

/** What a cluster found in a selftest, one entry per check (docs/protocol.md 6.4). */
export const SelftestResultSchema = z.looseObject({
  download: SelftestCheckSchema.describe('the test file arrived whole, with its size and SHA-256'),
  decode: SelftestCheckSchema.describe('the decoder read it as audio'),
  amplifier: z.looseObject({
    ok: z.boolean(),
    fault: z.string().max(64).optional().describe('fault code when not ok, e.g. "amplifier"'),
  }),
  speakers: z
    .array(SpeakerStatusSchema)
    .min(1)
    .max(16)
    .refine(
      (speakers) => speakers.every((s, i) => i === 0 || s.idx > (speakers[i - 1] as SpeakerStatus).idx),
      'one entry per output, in ascending idx, each output once',
    )
    .describe('each line answered (its load measured) or not'),
  tone: z.boolean().optional().describe('a test tone was played on each line'),
});
export type SelftestResult = z.infer<typeof SelftestResultSchema>;

export const ACK_STATUSES = ['accepted', 'rejected', 'done', 'failed'] as const;
export type AckStatus = (typeof ACK_STATUSES)[number];

export const AckSchema = z
  .looseObject({
    cmdId: CommandIdSchema,
    status: z.enum(ACK_STATUSES),
    error: z.string().max(200).optional().describe('why, when rejected or failed'),
    ts: EpochMsSchema,
    startedAt: EpochMsSchema.optional().describe(
      'a play: when its first sound was heard, on every ack after that',
    ),
    items: z
      .array(z.enum(ITEM_OUTCOMES))
      .max(MAX_PROGRAMME_ITEMS)
      .optional()
      .describe("a programme's done or failed ack: what became of each item, in order"),
    selftest: SelftestResultSchema.optional().describe("a selftest's done ack: the result of each check"),
  })
  .refine((ack) => (ack.status !== 'rejected' && ack.status !== 'failed') || ack.error !== undefined, {
    message: 'a rejected or failed ack says why (error)',
    path: ['error'],
  });
export type Ack = z.infer<typeof AckSchema>;

export const EVENT_TYPES = [
  'boot',
  'playback-started',
  'playback-finished',
  'playback-failed',
  'fault',
  'fault-cleared',
  'firmware-progress',
] as const;

/** The steps of a firmware update a cluster reports, in order; `rollback` only after a failed install. */
export const FIRMWARE_STAGES = ['download', 'verify', 'install', 'reboot', 'rollback'] as const;
export type FirmwareStage = (typeof FIRMWARE_STAGES)[number];

export const DeviceEventSchema = z
  .looseObject({
    type: z.enum(EVENT_TYPES),
    ts: EpochMsSchema,
    cmdId: CommandIdSchema.optional(),
    broadcastId: BroadcastIdSchema.optional(),
    speaker: z.int().min(1).max(16).optional(),
    code: z.string().max(64).optional(),
    message: z.string().max(200).optional(),
    stage: z.enum(FIRMWARE_STAGES).optional().describe('firmware-progress: the step it reports'),
    ok: z.boolean().optional().describe('firmware-progress: the step succeeded'),
    error: z.string().max(64).optional().describe('firmware-progress: why the step failed'),
    version: z
      .string()
      .min(1)
      .max(64)
      .optional()
      .describe('firmware-progress: the version running after a rollback (as state.fw)'),
  })
  .refine((event) => !event.type.startsWith('playback-') || event.cmdId !== undefined, {
    message: 'a playback event names its play (cmdId)',
    path: ['cmdId'],
  })
  .refine(
    (event) =>
      event.type !== 'firmware-progress' ||
      (event.cmdId !== undefined && event.stage !== undefined && event.ok !== undefined),
    {
      message: 'a firmware-progress event names its command, stage and outcome (cmdId, stage, ok)',
      path: ['stage'],
    },
  );
export type DeviceEvent = z.infer<typeof DeviceEventSchema>;
