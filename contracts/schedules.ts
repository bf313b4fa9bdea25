import { z } from 'zod';
import { lunarRuleSchema } from '../services/schedules/lunar-calendar.js';
import { recurrenceProblem, recurrenceSyntaxProblem } from '../services/schedules/recurrence-rule.js';
import { isTimeZone, parseWallTime } from '../services/schedules/wall-time.js';
import { ContentSchema, LevelSchema, TargetsSchema } from './broadcasts.js';
import { SlugSchema } from './registry.js';

const timestamp = z.iso.datetime().describe('ISO 8601, UTC');
const name = z.string().trim().min(1).max(120);

export const WallTimeSchema = z
  .string()
  .refine((text) => parseWallTime(text) !== null, 'a local date and time YYYY-MM-DDTHH:mm[:ss]')
  .describe('local ("wall clock") time in the schedule\'s timezone, YYYY-MM-DDTHH:mm[:ss]');

export const TimeZoneSchema = z
  .string()
  .refine(isTimeZone, 'an IANA time zone such as Asia/Ho_Chi_Minh')
  .describe('IANA time zone of the wall times');

export const RecurrenceSchema = z
  .string()
  .max(300)
  .superRefine((rule, ctx) => {
    const problem = recurrenceSyntaxProblem(rule);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .describe(
    'RFC 5545 RRULE value without DTSTART, e.g. FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR or ' +
      'FREQ=MONTHLY;BYMONTHDAY=1;UNTIL=20271231. FREQ is DAILY, WEEKLY, MONTHLY or YEARLY; ' +
      'BYDAY, BYMONTHDAY, BYMONTH, INTERVAL, COUNT, UNTIL and WKST narrow it. UNTIL with Z is UTC, ' +
      'without it local time, and a bare date includes that whole day.',
  );

const fields = {
  name,
  level: LevelSchema.describe(
    'normal, priority or emergency (Circular 39): a higher level pre-empts a lower one',
  ),
  content: ContentSchema,
  volume: z
    .int()
    .min(0)
    .max(100)
    .describe('playback volume in percent; the cluster keeps its own when absent'),
  repeat: z.int().min(1).max(20).describe('plays of the media item back to back'),
  timezone: TimeZoneSchema,
  start: WallTimeSchema.describe('wall time of the (first) occurrence, YYYY-MM-DDTHH:mm[:ss]'),
  rrule: RecurrenceSchema,
  lunar: lunarRuleSchema.describe(
    'a recurrence on Vietnamese lunar dates (UTC+7) at the time of `start`, from its date on: ' +
      '{kind: "monthly", day} (e.g. 15: rằm) or {kind: "yearly", month, day} (e.g. 3/10: Giỗ Tổ); ' +
      'a leap month keeps monthly dates unless leap is "skip"; day 30 of a 29-day month is its last day ' +
      'unless shortMonth is "skip"',
  ),
  exdates: z.array(WallTimeSchema).max(1_000).describe('wall times of occurrences that do not take place'),
  durationS: z
    .int()
    .min(1)
    .max(86_400)
    .describe(
      'stream content only: how long the stream is relayed (seconds); media lasts its length × repeat',
    ),
  targets: TargetsSchema,
  enabled: z.boolean().describe('a disabled schedule is kept but never plays'),
};

/** Cross-field rules, shared by creation and by a patch merged onto a saved schedule. */
function crossCheck(
  value: {
    content?: { kind: string };
    durationS?: number | null;
    repeat?: number;
    rrule?: string | null;
    lunar?: unknown;
    start?: string;
  },
  ctx: z.RefinementCtx,
) {
  if (value.rrule && value.lunar) {
    ctx.addIssue({
      code: 'custom',
      path: ['lunar'],
      message: 'a schedule recurs by rrule or by lunar dates, not both',
    });
  }
  if ((value.content?.kind === 'stream' || value.content?.kind === 'station') && value.durationS == null) {
    ctx.addIssue({
      code: 'custom',
      path: ['durationS'],
      message: `required for ${value.content.kind} content (the relay window)`,
    });
  }
  const kind = value.content?.kind;
  if (kind !== undefined && kind !== 'stream' && kind !== 'station' && value.durationS != null) {
    ctx.addIssue({
      code: 'custom',
      path: ['durationS'],
      message: `only for stream or station content: ${kind} content lasts as long as its audio`,
    });
  }
  if (kind === 'programme' && value.repeat !== undefined && value.repeat > 1) {
    ctx.addIssue({
      code: 'custom',
      path: ['repeat'],
      message: 'a programme plays once; put an item in it twice to hear it twice',
    });
  }
  const start = value.start === undefined ? null : parseWallTime(value.start);
  if (value.rrule && start && recurrenceSyntaxProblem(value.rrule) === null) {
    const problem = recurrenceProblem(value.rrule, start);
    if (problem) ctx.addIssue({ code: 'custom', path: ['rrule'], message: problem });
  }
}

export const ScheduleCreateSchema = z
  .strictObject({
    name: fields.name,
    level: fields.level,
    content: fields.content,
    volume: fields.volume.nullable().optional(),
    repeat: fields.repeat.default(1),
    timezone: fields.timezone
      .optional()
      .describe('IANA time zone of the wall times; default Asia/Ho_Chi_Minh'),
    start: fields.start,
    rrule: fields.rrule.nullable().optional().describe('absent or null: a one-off'),
    lunar: fields.lunar.nullable().optional().describe('instead of rrule: recur on lunar dates'),
    exdates: fields.exdates.default([]),
    durationS: fields.durationS.nullable().optional(),
    targets: fields.targets,
    enabled: fields.enabled.default(true),
  })
  .superRefine(crossCheck);
export type ScheduleCreate = z.infer<typeof ScheduleCreateSchema>;
export type ScheduleCreateInput = z.input<typeof ScheduleCreateSchema>;

/** A patch names only what changes; null clears volume, rrule (making a one-off) or durationS. */
export const SchedulePatchSchema = z.strictObject({
  name: fields.name.optional(),
  level: fields.level.optional(),
  content: fields.content.optional(),
  volume: fields.volume.nullable().optional(),
  repeat: fields.repeat.optional(),
  timezone: fields.timezone.optional(),
  start: fields.start.optional(),
  rrule: fields.rrule.nullable().optional(),
  lunar: fields.lunar.nullable().optional(),
  exdates: fields.exdates.optional(),
  durationS: fields.durationS.nullable().optional(),
  targets: fields.targets.optional(),
  enabled: fields.enabled.optional(),
});
export type SchedulePatch = z.infer<typeof SchedulePatchSchema>;

const IntervalSchema = z.object({ start: timestamp, end: timestamp });

/**
 * Content approval (duyệt nội dung) of a schedule: `not-required` where its communes do not ask
 * for it (and for emergencies, which never wait); otherwise `draft` → `submitted` → `approved`,
 * or `returned` with a comment. Any change but enabling or disabling makes an approved schedule a
 * draft again. Only `approved` and `not-required` schedules air.
 */
export const APPROVAL_STATES = ['not-required', 'draft', 'submitted', 'approved', 'returned'] as const;
export type ApprovalState = (typeof APPROVAL_STATES)[number];

export const ApprovalStepSchema = z.object({
  step: z.enum(['submitted', 'approved', 'returned']),
  by: z.string(),
  comment: z.string().nullable(),
  at: timestamp,
});
export type ApprovalStep = z.infer<typeof ApprovalStepSchema>;

export const ApprovalSchema = z.object({
  state: z.enum(APPROVAL_STATES),
  approvedBy: z.string().nullable(),
  steps: z.array(ApprovalStepSchema).describe('the last 20 steps, oldest first'),
});

export const ApprovalDecisionSchema = z.strictObject({
  comment: z.string().trim().max(1_000).optional().describe('a note to the operator'),
});
export const ApprovalReturnSchema = z.strictObject({
  comment: z.string().trim().min(1).max(1_000).describe('what to change before it is sent again'),
});

export const ScheduleSchema = z.object({
  id: z.string(),
  name: z.string(),
  level: LevelSchema,
  content: ContentSchema,
  volume: z.int().nullable(),
  repeat: z.int(),
  timezone: z.string(),
  start: z.string().describe('wall time of the first occurrence, YYYY-MM-DDTHH:mm:ss'),
  rrule: z.string().nullable(),
  lunar: lunarRuleSchema.nullable(),
  exdates: z.array(z.string()),
  durationS: z.number().describe('length of one occurrence in seconds'),
  targets: TargetsSchema,
  enabled: z.boolean(),
  approval: ApprovalSchema,
  clusterIds: z.array(z.string()).describe('the clusters the targets resolve to now'),
  next: IntervalSchema.nullable().describe(
    'the next occurrence (or the one playing), null when none is left',
  ),
  createdBy: z.string().nullable(),
  createdAt: timestamp,
  updatedAt: timestamp,
});
export type ScheduleView = z.infer<typeof ScheduleSchema>;

export const OverlapSchema = z.object({
  scheduleId: z.string(),
  scheduleName: z.string(),
  level: LevelSchema,
  clusterIds: z.array(z.string()).describe('the clusters both schedules play on'),
  occurrence: IntervalSchema.describe("this schedule's occurrence"),
  other: IntervalSchema.describe("the other schedule's occurrence"),
});
export type OverlapView = z.infer<typeof OverlapSchema>;

export const ScheduleResultSchema = z.object({
  schedule: ScheduleSchema,
  preempts: z.array(OverlapSchema).describe('lower-level occurrences this schedule interrupts (first 200)'),
  preemptedBy: z
    .array(OverlapSchema)
    .describe('higher-level occurrences that interrupt this schedule (first 200)'),
});

export const CalendarOccurrenceSchema = z.object({
  scheduleId: z.string(),
  name: z.string(),
  level: LevelSchema,
  content: ContentSchema,
  start: timestamp,
  end: timestamp,
  lunarDate: z
    .object({ day: z.int(), month: z.int(), year: z.int(), leap: z.boolean() })
    .describe("the start's date in the Vietnamese lunar calendar (in the schedule's zone)"),
  approval: z.enum(APPROVAL_STATES).describe('an occurrence airs only when approved or not-required'),
  clusterIds: z.array(z.string()),
  preempts: z.array(OverlapSchema),
  preemptedBy: z.array(OverlapSchema),
  clashes: z
    .array(OverlapSchema)
    .describe(
      'same-level overlaps; refused when schedules are saved, but a group or registry edit can create one',
    ),
});
export type CalendarOccurrence = z.infer<typeof CalendarOccurrenceSchema>;

// Groups

export const GroupIdSchema = SlugSchema;

export const GroupCreateSchema = z.strictObject({
  id: GroupIdSchema.optional(),
  communeId: SlugSchema,
  name,
  clusterIds: z.array(z.string().min(1).max(23)).max(10_000).default([]).describe('clusters of this commune'),
});
export type GroupCreate = z.infer<typeof GroupCreateSchema>;

export const GroupPatchSchema = z.strictObject({
  name: name.optional(),
  clusterIds: z.array(z.string().min(1).max(23)).max(10_000).optional(),
});
export type GroupPatch = z.infer<typeof GroupPatchSchema>;

export const GroupSchema = z.object({
  id: z.string(),
  communeId: z.string(),
  name: z.string(),
  clusterIds: z.array(z.string()),
  createdAt: timestamp,
  updatedAt: timestamp,
});
export type Group = z.infer<typeof GroupSchema>;
