import { z } from 'zod';
import { ALARM_KINDS, SEVERITIES } from './alarms.js';
import { SlugSchema } from './registry.js';

const timestamp = z.iso.datetime().describe('ISO 8601, UTC');
const name = z.string().trim().min(1).max(120);

/** How a person is told: e-mail over SMTP, a Telegram bot, a Zalo Official Account. */
export const NOTIFY_CHANNELS = ['email', 'telegram', 'zalo'] as const;
export type NotifyChannel = (typeof NOTIFY_CHANNELS)[number];

/**
 * What a routing rule matches: every alarm kind, the village outage that stands for its alarms, and
 * the reach gap of a finished broadcast (villages whose clusters did not play it), which a rule
 * matches only when it lists it.
 */
export const NOTICE_KINDS = [...ALARM_KINDS, 'village-outage', 'reach-gap'] as const;
export type NoticeKind = (typeof NOTICE_KINDS)[number];

const ClockTimeSchema = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:MM, 24-hour');

/** A nightly span in the commune's time zone; start equal to end means none. */
export const QuietHoursSchema = z
  .strictObject({ start: ClockTimeSchema, end: ClockTimeSchema })
  .describe("local times in the commune's zone, e.g. 22:00 to 06:00; start = end: no quiet hours");
export type QuietHours = z.infer<typeof QuietHoursSchema>;

const contactFields = {
  name,
  email: z.email().max(254).nullable().optional(),
  telegramChatId: z
    .string()
    .regex(/^-?\d{1,20}$/, "the chat's numeric id (a group's begins with -)")
    .nullable()
    .optional()
    .describe('the chat the bot writes to; the person must have started the bot first'),
  zaloUserId: z
    .string()
    .regex(/^\d{1,32}$/, "the follower's numeric Zalo user id")
    .nullable()
    .optional()
    .describe('a follower of the commune’s Zalo Official Account'),
  villageHead: z
    .boolean()
    .optional()
    .describe('trưởng thôn: rules may reach the heads of the alarm’s village'),
  villageId: SlugSchema.nullable().optional().describe('the village the person is head of or lives in'),
  quietHours: QuietHoursSchema.nullable()
    .optional()
    .describe("this person's own quiet hours; null: the commune's"),
  enabled: z.boolean().optional(),
};

export const ContactCreateSchema = z.strictObject({ communeId: SlugSchema, ...contactFields });
export type ContactCreate = z.infer<typeof ContactCreateSchema>;
export const ContactPatchSchema = z.strictObject(contactFields).partial();
export type ContactPatch = z.infer<typeof ContactPatchSchema>;

export const ContactSchema = z.object({
  id: z.string(),
  communeId: z.string(),
  name: z.string(),
  email: z.string().nullable(),
  telegramChatId: z.string().nullable(),
  zaloUserId: z.string().nullable(),
  villageHead: z.boolean(),
  villageId: z.string().nullable(),
  quietHours: QuietHoursSchema.nullable(),
  enabled: z.boolean(),
  createdAt: timestamp,
  updatedAt: timestamp,
});
export type Contact = z.infer<typeof ContactSchema>;

const ruleFields = {
  name,
  kinds: z
    .array(z.enum(NOTICE_KINDS))
    .max(NOTICE_KINDS.length)
    .optional()
    .describe('alarm kinds, village-outage and reach-gap it matches; empty: every kind but reach-gap'),
  minSeverity: z.enum(SEVERITIES).optional().describe('the least severe alarm it sends (default warning)'),
  contactIds: z
    .array(z.string().regex(/^nc-[0-9a-f]{10}$/))
    .max(200)
    .optional(),
  villageHeads: z.boolean().optional().describe('also the heads (villageHead) of the alarm’s village'),
  channels: z
    .array(z.enum(NOTIFY_CHANNELS))
    .min(1)
    .max(NOTIFY_CHANNELS.length)
    .describe('each recipient is told on those of these it has an address for'),
  enabled: z.boolean().optional(),
};

export const RuleCreateSchema = z.strictObject({ communeId: SlugSchema, ...ruleFields });
export type RuleCreate = z.infer<typeof RuleCreateSchema>;
export const RulePatchSchema = z.strictObject(ruleFields).partial();
export type RulePatch = z.infer<typeof RulePatchSchema>;

export const RuleSchema = z.object({
  id: z.string(),
  communeId: z.string(),
  name: z.string(),
  kinds: z.array(z.enum(NOTICE_KINDS)),
  minSeverity: z.enum(SEVERITIES),
  contactIds: z.array(z.string()),
  villageHeads: z.boolean(),
  channels: z.array(z.enum(NOTIFY_CHANNELS)),
  enabled: z.boolean(),
  createdAt: timestamp,
  updatedAt: timestamp,
});
export type Rule = z.infer<typeof RuleSchema>;

export const SettingsSchema = z.object({
  communeId: z.string(),
  quietHours: QuietHoursSchema.nullable().describe("the commune's quiet hours; null: none"),
  criticalBypassesQuiet: z
    .boolean()
    .describe(
      'a critical alarm (and a village outage) is sent at once even in quiet hours; its clearing waits',
    ),
  digestWindowMin: z
    .int()
    .min(1)
    .max(1_440)
    .describe(
      'at most one message per recipient and channel this often; what comes between goes in one digest',
    ),
  custom: z.boolean().describe("false: the platform's defaults"),
});
export type Settings = z.infer<typeof SettingsSchema>;

export const SettingsPatchSchema = z.strictObject({
  quietHours: QuietHoursSchema.nullable().optional(),
  criticalBypassesQuiet: z.boolean().optional(),
  digestWindowMin: z.int().min(1).max(1_440).optional(),
});

export const NOTIFICATION_STATUSES = ['queued', 'sent', 'failed', 'suppressed'] as const;
export type NotificationStatus = (typeof NOTIFICATION_STATUSES)[number];

export const NotificationSchema = z.object({
  id: z.string(),
  communeId: z.string(),
  kind: z
    .enum(['notice', 'digest', 'test'])
    .describe('notice: one alarm or outage to one recipient; digest: one message gathering notices; test'),
  alarmId: z.string().nullable(),
  incidentId: z.string().nullable(),
  broadcastId: z.string().nullable().describe('a reach-gap follow-up: the broadcast the village missed'),
  villageId: z.string().nullable().describe('a reach-gap follow-up: the village that missed it'),
  change: z.enum(['opened', 'cleared']).nullable(),
  severity: z.enum(SEVERITIES).nullable(),
  contactId: z.string().nullable(),
  contactName: z.string().nullable(),
  channel: z.enum(NOTIFY_CHANNELS),
  status: z.enum(NOTIFICATION_STATUSES),
  reason: z
    .string()
    .nullable()
    .describe(
      'queued: quiet (until quiet hours end), digest-window (until the next digest), retry (after a failure); ' +
        'suppressed: held (maintenance), digested (sent inside the digest digestId), overflow (too many ' +
        'waiting for one recipient); failed: why',
    ),
  title: z.string(),
  digestId: z.string().nullable().describe('the digest this notice went out in'),
  items: z.int().describe('digest: notices it carries; otherwise 1'),
  attempts: z.int().describe('tries so far; retried = attempts - 1'),
  lastError: z.string().nullable(),
  createdAt: timestamp,
  dueAt: timestamp.nullable().describe('queued: when it is next gathered, sent or retried'),
  sentAt: timestamp.nullable(),
});
export type Notification = z.infer<typeof NotificationSchema>;

export const NotificationQuerySchema = z.object({
  communeId: SlugSchema.optional(),
  alarmId: z.string().max(64).optional(),
  incidentId: z.string().max(64).optional(),
  broadcastId: z.string().max(64).optional(),
  contactId: z.string().max(64).optional(),
  status: z.enum(NOTIFICATION_STATUSES).optional(),
});

export const TestResultSchema = z.object({
  results: z.array(
    z.object({
      channel: z.enum(NOTIFY_CHANNELS),
      ok: z.boolean(),
      error: z.string().nullable(),
      notificationId: z.string(),
    }),
  ),
});

export const ReachNotifyRequestSchema = z.strictObject({
  villageIds: z
    .array(SlugSchema)
    .min(1)
    .max(500)
    .optional()
    .describe('some of the villages that missed the broadcast; default: every one of them'),
  channels: z
    .array(z.enum(NOTIFY_CHANNELS))
    .min(1)
    .max(NOTIFY_CHANNELS.length)
    .optional()
    .describe('default: every channel; each head is told on those of these it has an address for'),
});
export type ReachNotifyRequest = z.infer<typeof ReachNotifyRequestSchema>;

export const REACH_OUTCOMES = ['queued', 'already-told', 'no-head'] as const;

export const ReachNotifyResultSchema = z.object({
  broadcastId: z.string(),
  villages: z.array(
    z.object({
      villageId: z.string(),
      villageName: z.string(),
      communeId: z.string(),
      reached: z.boolean().describe('at least one of its clusters played it'),
      outcome: z
        .enum(REACH_OUTCOMES)
        .describe(
          'queued: its heads are being told now (see notifications); already-told: it was followed up ' +
            'before for this broadcast; no-head: no enabled village head with an address on these channels',
        ),
      notifications: z
        .array(NotificationSchema)
        .describe('the messages queued now, one per head and channel'),
    }),
  ),
});
export type ReachNotifyResult = z.infer<typeof ReachNotifyResultSchema>;
