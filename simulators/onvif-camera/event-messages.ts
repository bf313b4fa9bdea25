import type { VideoSourceSpec } from './onvif-services.js';
import { escapeXml } from './soap.js';

/** Namespaces of the Events service (ONVIF Events WSDL, WS-BaseNotification, WS-Topics). */
export const EVENT_NS = {
  tev: 'http://www.onvif.org/ver10/events/wsdl',
  wsnt: 'http://docs.oasis-open.org/wsn/b-2',
  wstop: 'http://docs.oasis-open.org/wsn/t-1',
  tns1: 'http://www.onvif.org/ver10/topics',
  wsa: 'http://www.w3.org/2005/08/addressing',
} as const;

export const EVENTS_NAMESPACE = EVENT_NS.tev;
/** How many PullPoint subscriptions the camera holds at once, as small firmware does. */
export const MAX_PULL_POINTS = 16;

/** The tev:Capabilities element of GetServices and GetServiceCapabilities. */
export const EVENTS_CAPABILITIES =
  `<tev:Capabilities xmlns:tev="${EVENT_NS.tev}" WSSubscriptionPolicySupport="false" WSPullPointSupport="true" ` +
  `WSPausableSubscriptionManagerInterfaceSupport="false" MaxNotificationProducers="0" MaxPullPoints="${MAX_PULL_POINTS}" ` +
  'PersistentNotificationStorage="false"/>';

/** The root element of an events answer, declaring the prefixes its messages use. */
export const eventsRoot = (name: string, inner: string) =>
  `<${name} xmlns:tev="${EVENT_NS.tev}" xmlns:wsnt="${EVENT_NS.wsnt}" xmlns:wstop="${EVENT_NS.wstop}" ` +
  `xmlns:tns1="${EVENT_NS.tns1}" xmlns:wsa="${EVENT_NS.wsa}">${inner}</${name}>`;

export const SIMULATED_EVENT_KINDS = ['motion', 'tamper', 'video-loss'] as const;
export type SimulatedEventKind = (typeof SIMULATED_EVENT_KINDS)[number];

interface TopicSpec {
  topic: string;
  kind: SimulatedEventKind;
  source(source: VideoSourceSpec): [name: string, value: string][];
  sourceTypes: [name: string, type: string][];
  state: string;
}

/**
 * The topics this camera sends, from the ONVIF topic set (tns1). Motion goes out twice, as the
 * video source's MotionAlarm and as the cell motion rule, the way most firmware does.
 */
export const EVENT_TOPICS: readonly TopicSpec[] = [
  {
    topic: 'tns1:RuleEngine/CellMotionDetector/Motion',
    kind: 'motion',
    source: (s) => [
      ['VideoSourceConfigurationToken', s.configToken],
      ['VideoAnalyticsConfigurationToken', `VideoAnalyticsConfig_${s.channel}`],
      ['Rule', 'MyMotionDetectorRule'],
    ],
    sourceTypes: [
      ['VideoSourceConfigurationToken', 'tt:ReferenceToken'],
      ['VideoAnalyticsConfigurationToken', 'tt:ReferenceToken'],
      ['Rule', 'xs:string'],
    ],
    state: 'IsMotion',
  },
  {
    topic: 'tns1:VideoSource/MotionAlarm',
    kind: 'motion',
    source: (s) => [['Source', s.token]],
    sourceTypes: [['Source', 'tt:ReferenceToken']],
    state: 'State',
  },
  {
    topic: 'tns1:VideoSource/GlobalSceneChange/ImagingService',
    kind: 'tamper',
    source: (s) => [['Source', s.token]],
    sourceTypes: [['Source', 'tt:ReferenceToken']],
    state: 'State',
  },
  {
    topic: 'tns1:VideoSource/SignalLoss',
    kind: 'video-loss',
    source: (s) => [['Source', s.token]],
    sourceTypes: [['Source', 'tt:ReferenceToken']],
    state: 'State',
  },
];

const simpleItems = (items: [string, string][]) =>
  items.map(([name, value]) => `<tt:SimpleItem Name="${name}" Value="${escapeXml(value)}"/>`).join('');

/** One wsnt:NotificationMessage carrying a property's state (ONVIF Core, "Notification structure"). */
export function notificationXml(
  spec: TopicSpec,
  source: VideoSourceSpec,
  active: boolean,
  operation: 'Initialized' | 'Changed',
  utcMs: number,
): string {
  return (
    '<wsnt:NotificationMessage>' +
    `<wsnt:Topic Dialect="http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet">${spec.topic}</wsnt:Topic>` +
    `<wsnt:Message><tt:Message UtcTime="${new Date(utcMs).toISOString()}" PropertyOperation="${operation}">` +
    `<tt:Source>${simpleItems(spec.source(source))}</tt:Source>` +
    `<tt:Data>${simpleItems([[spec.state, String(active)]])}</tt:Data>` +
    '</tt:Message></wsnt:Message></wsnt:NotificationMessage>'
  );
}

/** The wstop:TopicSet of GetEventProperties: each topic a path of elements, its leaf marked. */
export function topicSetXml(): string {
  interface Node {
    children: Map<string, Node>;
    spec?: TopicSpec;
  }
  const root: Node = { children: new Map() };
  for (const spec of EVENT_TOPICS) {
    let node = root;
    for (const segment of spec.topic.replace(/^tns1:/, '').split('/')) {
      const next = node.children.get(segment) ?? { children: new Map() };
      node.children.set(segment, next);
      node = next;
    }
    node.spec = spec;
  }
  const render = (name: string, node: Node): string => {
    const description = node.spec
      ? '<tt:MessageDescription IsProperty="true">' +
        `<tt:Source>${node.spec.sourceTypes.map(([n, t]) => `<tt:SimpleItemDescription Name="${n}" Type="${t}"/>`).join('')}</tt:Source>` +
        `<tt:Data><tt:SimpleItemDescription Name="${node.spec.state}" Type="xs:boolean"/></tt:Data>` +
        '</tt:MessageDescription>'
      : '';
    const children = [...node.children].map(([child, n]) => render(child, n)).join('');
    return `<tns1:${name}${node.spec ? ' wstop:topic="true"' : ''}>${description}${children}</tns1:${name}>`;
  };
  return `<wstop:TopicSet>${[...root.children].map(([name, node]) => render(name, node)).join('')}</wstop:TopicSet>`;
}

/** How long an injected event lasts unless told: a passing vehicle, a covered lens, a cut cable. */
export const DEFAULT_EVENT_S: Record<SimulatedEventKind, number> = {
  motion: 10,
  tamper: 30,
  'video-loss': 60,
};

export const CAMERA_EVENT_SUMMARIES: Record<SimulatedEventKind, string> = {
  motion: `motion on a channel for [s] seconds (default ${DEFAULT_EVENT_S.motion}); "on" holds it, "off" ends it`,
  tamper: `the scene changes at once (lens covered or turned) for [s] seconds (default ${DEFAULT_EVENT_S.tamper})`,
  'video-loss': `the channel loses its video signal for [s] seconds (default ${DEFAULT_EVENT_S['video-loss']})`,
};

export class CameraEventSpecError extends Error {
  override readonly name = 'CameraEventSpecError';
}

export interface CameraEventSpec {
  kind: SimulatedEventKind;
  active: boolean;
  /** Seconds until it ends by itself; 0 holds it until ended. */
  durationS: number;
  /** 1-based channel, or all channels. */
  channel: number | 'all';
}

/** `motion`, `motion 30`, `tamper off`, `video-loss on 3` as typed at the demo prompt. */
export function parseCameraEvent(kind: string, arg?: string, channel?: string): CameraEventSpec {
  if (!(SIMULATED_EVENT_KINDS as readonly string[]).includes(kind)) {
    throw new CameraEventSpecError(
      `unknown event "${kind}"; expected one of ${SIMULATED_EVENT_KINDS.join(', ')}`,
    );
  }
  const event = kind as SimulatedEventKind;
  let active = true;
  let durationS = DEFAULT_EVENT_S[event];
  if (arg === 'on') durationS = 0;
  else if (arg === 'off') active = false;
  else if (arg !== undefined) {
    if (!/^\d+$/.test(arg) || Number(arg) < 1 || Number(arg) > 86_400)
      throw new CameraEventSpecError(`duration must be 1 to 86400 seconds, "on" or "off" (got "${arg}")`);
    durationS = Number(arg);
  }
  let target: number | 'all' = 'all';
  if (channel !== undefined) {
    const n = Number(channel.replace(/^ch/i, ''));
    if (!Number.isInteger(n) || n < 1)
      throw new CameraEventSpecError(`channel must be 1 or more (got "${channel}")`);
    target = n;
  }
  return { kind: event, active, durationS, channel: target };
}
