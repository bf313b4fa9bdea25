/**
 * Shapes of the HTTP API's answers the console reads, derived from the schemas the platform
 * validates with. Type-only imports: no zod or server code reaches the bundle.
 */
import type { z } from 'zod';
import type { MeSchema, PasswordChangedSchema, RoleSchema, UserSchema } from '../../../contracts/accounts';
import type { AuditEntrySchema } from '../../../contracts/audit';
import type {
  BroadcastDetailSchema,
  ContentSchema,
  DeliverySchema,
  LevelSchema,
  ProgrammeItemSchema,
  TargetsSchema,
} from '../../../contracts/broadcasts';
import type {
  BulletinCreateSchema,
  BulletinSchema,
  InboxItemSchema,
  ProvinceOverviewSchema,
} from '../../../contracts/bulletins';
import type {
  CameraIncidentSchema,
  CameraWithHealthSchema,
  DiscoveredCameraSchema,
} from '../../../contracts/cameras';
import type {
  CommandResponseSchema,
  ControlRequestSchema,
  ControlResponseSchema,
  ControlScheduleSchema,
} from '../../../contracts/commands';
import type { ConsoleSettingsSchema } from '../../../contracts/console';
import type { DemoFaultsSchema } from '../../../contracts/demo';
import type {
  AvailabilityReportSchema,
  AvailabilitySchema,
  HistoryResponseSchema,
} from '../../../contracts/history';
import type { MediaSchema } from '../../../contracts/media';
import type {
  ClusterDetailSchema,
  ClusterSchema,
  ClusterStatusSchema,
  CommuneSchema,
  IssuedSecretSchema,
  ProvinceSchema,
  VillageSchema,
} from '../../../contracts/registry';
import type {
  CalendarOccurrenceSchema,
  GroupSchema,
  OverlapSchema,
  ScheduleResultSchema,
  ScheduleSchema,
} from '../../../contracts/schedules';
import type { FallbackSchema, RelaySwitchSchema, StationSchema } from '../../../contracts/stations';
import type { SpeechMediaRequestSchema, SpeechRequestSchema } from '../../../contracts/tts';

export type Role = z.infer<typeof RoleSchema>;
export type Level = z.infer<typeof LevelSchema>;

export type User = z.infer<typeof UserSchema>;
export type Me = z.infer<typeof MeSchema>;
/** What a password change or reset did besides changing the password. */
export type PasswordChanged = z.infer<typeof PasswordChangedSchema>;

export type ConsoleSettings = z.infer<typeof ConsoleSettingsSchema>;

/** A province after the 2025 arrangement (34 of them). */
export type Province = z.infer<typeof ProvinceSchema>;
export type Commune = z.infer<typeof CommuneSchema>;
export type Village = z.infer<typeof VillageSchema>;
export type ClusterStatus = z.infer<typeof ClusterStatusSchema>;
/** A cluster as listed. */
export type Cluster = z.infer<typeof ClusterSchema>;
/** A single cluster's answer: the listed shape plus the messages ingress dropped. */
export type ClusterDetail = z.infer<typeof ClusterDetailSchema>;
export type Group = z.infer<typeof GroupSchema>;
/** A device secret, shown once when issued or rotated. */
export type IssuedSecret = z.infer<typeof IssuedSecretSchema>;

export type Camera = z.infer<typeof CameraWithHealthSchema>;
export type CameraState = Camera['health']['state'];
/** A camera that answered a WS-Discovery probe. */
export type DiscoveredCamera = z.infer<typeof DiscoveredCameraSchema>;
export type CameraIncident = z.infer<typeof CameraIncidentSchema>;

export type Media = z.infer<typeof MediaSchema>;

/** A text to read aloud, and the voice of the commune's region to read it in. */
export type SpeechRequest = z.infer<typeof SpeechRequestSchema>;
export type Voice = SpeechRequest['voice'];
/** A text read aloud and kept in the media library under a name. */
export type SpeechMediaRequest = z.infer<typeof SpeechMediaRequestSchema>;

export type Content = z.infer<typeof ContentSchema>;
/** One part of a programme (content played in order as one broadcast). */
export type ProgrammeItem = z.infer<typeof ProgrammeItemSchema>;
/** Where a jingle stands in a programme: before, after, or between its parts. */
export type JingleRole = Extract<ProgrammeItem, { kind: 'jingle' }>['role'];
/** Targets as sent: every list may be left out. Answers carry all four (`Required<Targets>`). */
export type Targets = z.input<typeof TargetsSchema>;

export type Schedule = z.infer<typeof ScheduleSchema>;
export type Clash = z.infer<typeof OverlapSchema>;
export type ScheduleResult = z.infer<typeof ScheduleResultSchema>;
export type Occurrence = z.infer<typeof CalendarOccurrenceSchema>;
/** Where a schedule stands in content approval (duyệt nội dung). */
export type ApprovalState = Schedule['approval']['state'];
export type ApprovalStep = Schedule['approval']['steps'][number];
/** A recurrence on Vietnamese lunar dates, as a schedule keeps it (defaults filled in). */
export type LunarRule = NonNullable<Schedule['lunar']>;
/** An occurrence's date in the Vietnamese lunar calendar. */
export type LunarDate = Occurrence['lunarDate'];

/** A radio station a commune relays, with its fallback and its last health check. */
export type Station = z.infer<typeof StationSchema>;
export type StationKind = Station['kind'];
export type StationHealthState = Station['health']['state'];
export type Fallback = z.infer<typeof FallbackSchema>;
/** A relay that switched to its station's fallback, as the broadcast log keeps it. */
export type RelaySwitch = z.infer<typeof RelaySwitchSchema>;
/** The live stream a cluster reported playing in its last heartbeat. */
export type StreamHealth = NonNullable<ClusterStatus['stream']>;

export type Delivery = z.infer<typeof DeliverySchema>;
export type DeliveryState = Delivery['state'];
/** What a cluster reported of one item of a programme. */
export type ItemReport = NonNullable<Delivery['items']>[number];
export type Broadcast = z.infer<typeof BroadcastDetailSchema>;

export type Availability = z.infer<typeof AvailabilitySchema>;
export type AvailabilityReport = z.infer<typeof AvailabilityReportSchema>;

export type CommandRecord = z.infer<typeof CommandResponseSchema>;
/** What operators may send to the clusters of some targets: a volume or the amplifiers' power. */
export type ControlCommand = z.input<typeof ControlRequestSchema>['command'];
/** Each cluster's answer to a volume or power command sent to some targets. */
export type ControlResult = z.infer<typeof ControlResponseSchema>;
export type ControlStatus = ControlResult['items'][number]['status'];
/** Volume or power set on a calendar (e.g. amplifiers off at 22:00 every day). */
export type ControlSchedule = z.infer<typeof ControlScheduleSchema>;
export type HistoryAnswer = z.infer<typeof HistoryResponseSchema>;
export type AuditEntry = z.infer<typeof AuditEntrySchema>;
/** Demo mode: a simulated device's faults. */
export type DemoFaults = z.infer<typeof DemoFaultsSchema>;

/** A bulletin from the province, with every commune's receipt and the totals. */
export type Bulletin = z.infer<typeof BulletinSchema>;
export type BulletinCreate = z.input<typeof BulletinCreateSchema>;
/** A commune's answer to a bulletin from the province, and what its clusters did. */
export type Receipt = Bulletin['receipts'][number];
export type ReceiptState = Receipt['state'];
/** A commune's inbox entry: its receipt with the bulletin. */
export type InboxItem = z.infer<typeof InboxItemSchema>;
/** A province at a glance: each commune's fleet, what waits for it, the recent bulletins. */
export type ProvinceOverview = z.infer<typeof ProvinceOverviewSchema>;
