/** What police are shown from a camera's ONVIF events. */
export const CAMERA_EVENT_KINDS = ['motion', 'tamper', 'video-loss'] as const;
export type CameraEventKind = (typeof CAMERA_EVENT_KINDS)[number];

export interface EventTopic {
  /** The topic path without namespace prefixes (ONVIF Core, "Topic structure"; tns1 is the ONVIF set). */
  path: string;
  kind: CameraEventKind;
  /** The Data SimpleItem that carries the on/off state of this property. */
  stateItem: string;
}

/**
 * The topics read, most specific first within each kind: when a camera offers several for one kind
 * (many send both MotionAlarm and CellMotionDetector for the same motion), only the first it offers
 * is used, so one motion is one event on the wall.
 */
export const EVENT_TOPICS: readonly EventTopic[] = [
  { path: 'RuleEngine/CellMotionDetector/Motion', kind: 'motion', stateItem: 'IsMotion' },
  { path: 'VideoSource/MotionAlarm', kind: 'motion', stateItem: 'State' },
  { path: 'RuleEngine/TamperDetector/Tamper', kind: 'tamper', stateItem: 'IsTamper' },
  { path: 'VideoSource/GlobalSceneChange/ImagingService', kind: 'tamper', stateItem: 'State' },
  { path: 'VideoSource/GlobalSceneChange/AnalyticsService', kind: 'tamper', stateItem: 'State' },
  { path: 'VideoSource/SignalLoss', kind: 'video-loss', stateItem: 'State' },
];

/** `tns1:VideoSource/tnsaxis:X` → `VideoSource/X`: prefixes are bindings, compared by local name. */
export function topicPath(topic: string): string {
  return topic
    .trim()
    .split('/')
    .filter((segment) => segment !== '')
    .map((segment) => segment.slice(segment.indexOf(':') + 1))
    .join('/');
}

/**
 * The topic used for each kind, given the topics the camera lists in GetEventProperties; with no
 * list (the call failed), every known topic is accepted.
 */
export function chooseTopics(offered: readonly string[] | null): EventTopic[] {
  if (offered === null) return [...EVENT_TOPICS];
  const paths = new Set(offered.map(topicPath));
  const chosen = new Map<CameraEventKind, EventTopic>();
  for (const topic of EVENT_TOPICS) {
    if (paths.has(topic.path) && !chosen.has(topic.kind)) chosen.set(topic.kind, topic);
  }
  return [...chosen.values()];
}

/** The on/off state a message carries, or null when it carries none (ONVIF booleans: true/false, 1/0). */
export function eventState(topic: EventTopic, data: Readonly<Record<string, string>>): boolean | null {
  const value = (data[topic.stateItem] ?? data.State)?.trim().toLowerCase();
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  return null;
}

/**
 * Which video source a message is about. VideoSource events name the source itself; rule engine
 * events name the video source configuration, which the profiles map to a source.
 */
export function eventSource(
  source: Readonly<Record<string, string>>,
  sourceOfConfiguration: ReadonlyMap<string, string>,
): string | null {
  const direct = source.VideoSource ?? source.VideoSourceToken ?? source.Source ?? source.InputToken;
  if (direct) return direct;
  const configuration = source.VideoSourceConfigurationToken;
  return configuration ? (sourceOfConfiguration.get(configuration) ?? null) : null;
}
