import { asArray } from './channels.js';
import type { OnvifSession, SoapFailureKind } from './onvif-session.js';
import { child, text } from './soap.js';

/*
 * The ONVIF Events PullPoint interface (ONVIF Core, "Real-time Pull-Point Notification Interface"),
 * built on WS-BaseNotification: CreatePullPointSubscription returns a subscription address; the
 * client long-polls it with PullMessages, extends it with Renew before its TerminationTime, and ends
 * it with Unsubscribe. A subscription lives in the device's memory and is gone after a reboot.
 */

const NS = {
  tev: 'http://www.onvif.org/ver10/events/wsdl',
  wsnt: 'http://docs.oasis-open.org/wsn/b-2',
} as const;

const ACTION = {
  getEventProperties: `${NS.tev}/EventPortType/GetEventPropertiesRequest`,
  create: `${NS.tev}/EventPortType/CreatePullPointSubscriptionRequest`,
  pull: `${NS.tev}/PullPointSubscription/PullMessagesRequest`,
  renew: 'http://docs.oasis-open.org/wsn/bw-2/SubscriptionManager/RenewRequest',
  unsubscribe: 'http://docs.oasis-open.org/wsn/bw-2/SubscriptionManager/UnsubscribeRequest',
} as const;

/** A call of the events interface that did not succeed, with the step it failed at. */
export class EventCallError extends Error {
  constructor(
    readonly call: string,
    readonly kind: SoapFailureKind,
    detail: string,
  ) {
    super(`${call}: ${detail}`);
    this.name = 'EventCallError';
  }
}

export interface NotificationMessage {
  /** As sent, e.g. `tns1:VideoSource/MotionAlarm`. */
  topic: string;
  /** tt:Message UtcTime in the camera's clock, or null when missing or unreadable. */
  utcTime: number | null;
  /** ONVIF Core "Properties": Initialized on subscription, then Changed; Deleted when it goes away. */
  operation: 'Initialized' | 'Changed' | 'Deleted' | null;
  source: Record<string, string>;
  data: Record<string, string>;
}

export interface PullPoint {
  /** The subscription's address, rebased onto the host the camera was reached on. */
  address: string;
  /** Platform time at which the device ends it unless renewed. */
  expiresAt: number;
}

const xsDuration = (seconds: number) => `PT${Math.max(1, Math.round(seconds))}S`;

/** Platform time of the device's TerminationTime, measured against its CurrentTime (clocks differ). */
function expiry(session: OnvifSession, node: unknown, fallbackS: number): number {
  const current = Date.parse(text(child(node, 'CurrentTime')) ?? '');
  const termination = Date.parse(text(child(node, 'TerminationTime')) ?? '');
  const now = session.now();
  if (Number.isNaN(termination)) return now + fallbackS * 1000;
  // Without CurrentTime, the camera's clock offset measured at the start stands in for it.
  const cameraNow = Number.isNaN(current) ? now + session.clockOffsetMs : current;
  return now + Math.max(0, termination - cameraNow);
}

/** Name → Value of the tt:SimpleItem children of a tt:Source or tt:Data. */
function simpleItems(node: unknown): Record<string, string> {
  const items: Record<string, string> = {};
  for (const item of asArray(child(node, 'SimpleItem'))) {
    const record = item as Record<string, unknown>;
    const name = record['@_Name'];
    const value = record['@_Value'];
    if (typeof name === 'string' && typeof value === 'string') items[name] = value;
  }
  return items;
}

/** The wsnt:NotificationMessage elements of a PullMessagesResponse. */
export function parseNotifications(response: unknown): NotificationMessage[] {
  return asArray(child(response, 'NotificationMessage')).flatMap((notification) => {
    const topic = text(child(notification, 'Topic'));
    if (!topic) return [];
    const message = child(notification, 'Message', 'Message');
    const record = (message ?? {}) as Record<string, unknown>;
    const utc = typeof record['@_UtcTime'] === 'string' ? Date.parse(record['@_UtcTime']) : Number.NaN;
    const operation = record['@_PropertyOperation'];
    return [
      {
        topic,
        utcTime: Number.isNaN(utc) ? null : utc,
        operation:
          operation === 'Initialized' || operation === 'Changed' || operation === 'Deleted'
            ? operation
            : null,
        source: simpleItems(child(message, 'Source')),
        data: simpleItems(child(message, 'Data')),
      },
    ];
  });
}

/** The topics of a GetEventProperties TopicSet: every element marked wstop:topic="true", as a path. */
export function parseTopicSet(response: unknown): string[] {
  const topics: string[] = [];
  const walk = (node: unknown, path: string[]) => {
    if (!node || typeof node !== 'object') return;
    for (const element of asArray(node)) {
      const record = element as Record<string, unknown>;
      if (path.length > 0 && record['@_topic'] === 'true') topics.push(path.join('/'));
      for (const [key, value] of Object.entries(record)) {
        if (key.startsWith('@_') || key === '#text' || key === 'MessageDescription') continue;
        walk(value, [...path, key]);
      }
    }
  };
  walk(child(response, 'GetEventPropertiesResponse', 'TopicSet'), []);
  return topics;
}

async function call(
  session: OnvifSession,
  name: string,
  url: string,
  body: string,
  options: { action: string; to?: string; waitMs?: number },
): Promise<unknown> {
  const answer = await session.call(url, body, options);
  if (!answer.ok) throw new EventCallError(name, answer.kind, answer.detail);
  return answer.body;
}

/** The topics the device can send. */
export async function getEventProperties(session: OnvifSession, eventsUrl: string): Promise<string[]> {
  const body = await call(
    session,
    'GetEventProperties',
    eventsUrl,
    `<tev:GetEventProperties xmlns:tev="${NS.tev}"/>`,
    {
      action: ACTION.getEventProperties,
    },
  );
  return parseTopicSet(body);
}

export async function createPullPoint(
  session: OnvifSession,
  eventsUrl: string,
  terminationS: number,
): Promise<PullPoint> {
  const body = await call(
    session,
    'CreatePullPointSubscription',
    eventsUrl,
    `<tev:CreatePullPointSubscription xmlns:tev="${NS.tev}">` +
      `<tev:InitialTerminationTime>${xsDuration(terminationS)}</tev:InitialTerminationTime>` +
      '</tev:CreatePullPointSubscription>',
    { action: ACTION.create },
  );
  const response = child(body, 'CreatePullPointSubscriptionResponse');
  const address = text(child(response, 'SubscriptionReference', 'Address'));
  if (!address)
    throw new EventCallError('CreatePullPointSubscription', 'bad-response', 'no subscription address');
  return { address: session.rebase(address), expiresAt: expiry(session, response, terminationS) };
}

/**
 * Waits up to `timeoutS` for messages (the device answers as soon as it has some). Returns them with
 * the subscription's termination as the device now reports it (it does not move unless renewed)
 * and the device's clock when it answered.
 */
export async function pullMessages(
  session: OnvifSession,
  pullPoint: PullPoint,
  timeoutS: number,
  messageLimit: number,
): Promise<{ messages: NotificationMessage[]; expiresAt: number; cameraTime: number | null }> {
  const body = await call(
    session,
    'PullMessages',
    pullPoint.address,
    `<tev:PullMessages xmlns:tev="${NS.tev}"><tev:Timeout>${xsDuration(timeoutS)}</tev:Timeout>` +
      `<tev:MessageLimit>${messageLimit}</tev:MessageLimit></tev:PullMessages>`,
    { action: ACTION.pull, to: pullPoint.address, waitMs: timeoutS * 1000 },
  );
  const response = child(body, 'PullMessagesResponse');
  const remainingS = Math.max(0, (pullPoint.expiresAt - session.now()) / 1000);
  const cameraTime = Date.parse(text(child(response, 'CurrentTime')) ?? '');
  return {
    messages: parseNotifications(response),
    expiresAt: expiry(session, response, remainingS),
    cameraTime: Number.isNaN(cameraTime) ? null : cameraTime,
  };
}

/** Extends the subscription; returns its new termination in platform time. */
export async function renewPullPoint(
  session: OnvifSession,
  pullPoint: PullPoint,
  terminationS: number,
): Promise<number> {
  const body = await call(
    session,
    'Renew',
    pullPoint.address,
    `<wsnt:Renew xmlns:wsnt="${NS.wsnt}"><wsnt:TerminationTime>${xsDuration(terminationS)}</wsnt:TerminationTime></wsnt:Renew>`,
    { action: ACTION.renew, to: pullPoint.address },
  );
  return expiry(session, child(body, 'RenewResponse'), terminationS);
}

export async function unsubscribe(session: OnvifSession, pullPoint: PullPoint): Promise<void> {
  await call(session, 'Unsubscribe', pullPoint.address, `<wsnt:Unsubscribe xmlns:wsnt="${NS.wsnt}"/>`, {
    action: ACTION.unsubscribe,
    to: pullPoint.address,
  });
}
