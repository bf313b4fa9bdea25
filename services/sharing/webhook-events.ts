import { randomBytes } from 'node:crypto';
import type { DeliveryState, Level } from '../../contracts/broadcasts.js';
import type { ReceiptState } from '../../contracts/bulletins.js';
import type { WebhookEvent } from '../../contracts/sharing.js';
import type { PresenceChange } from '../event-bus.js';
import type { AlarmNotice } from '../notifications/alarm-notices.js';
import { isoTime } from '../time.js';
import { outcomeOf } from './share-outcomes.js';

/** What an event needs to say where it happened; null for what the registry no longer holds. */
export interface Places {
  cluster(id: string): { name: string; communeId: string } | null;
  commune(id: string): { code: string | null; provinceId: string | null } | null;
  broadcast(id: string): { name: string; level: Level; bulletinId: string | null } | null;
}

/** An event for the webhooks, and the province whose webhooks may receive it (null: none). */
export interface ScopedEvent {
  event: WebhookEvent;
  communeId: string | null;
  provinceId: string | null;
}

const eventId = () => `evt_${randomBytes(10).toString('hex')}`;

/** A cluster came online or went offline (a device that is not a registered cluster is not told). */
export function clusterStatusEvent(change: PresenceChange, places: Places): ScopedEvent | null {
  const cluster = places.cluster(change.deviceId);
  if (!cluster) return null;
  const commune = places.commune(cluster.communeId);
  return {
    communeId: cluster.communeId,
    provinceId: commune?.provinceId ?? null,
    event: {
      id: eventId(),
      type: 'cluster.status',
      occurredAt: isoTime(change.at),
      data: {
        clusterId: change.deviceId,
        clusterName: cluster.name,
        communeId: cluster.communeId,
        communeCode: commune?.code ?? null,
        online: change.online,
        reason: change.reason,
      },
    },
  };
}

/** A cluster's delivery of a broadcast became final; open states are not told. */
export function deliveryFinalEvent(
  delivery: { broadcastId: string; clusterId: string; state: DeliveryState; at: number },
  places: Places,
): ScopedEvent | null {
  const outcome = outcomeOf(delivery.state);
  if (outcome === 'pending') return null;
  const cluster = places.cluster(delivery.clusterId);
  const commune = cluster ? places.commune(cluster.communeId) : null;
  const broadcast = places.broadcast(delivery.broadcastId);
  return {
    communeId: cluster?.communeId ?? null,
    provinceId: commune?.provinceId ?? null,
    event: {
      id: eventId(),
      type: 'delivery.final',
      occurredAt: isoTime(delivery.at),
      data: {
        broadcastId: delivery.broadcastId,
        provincialBulletinId: broadcast?.bulletinId ?? null,
        name: broadcast?.name ?? null,
        level: broadcast?.level ?? null,
        clusterId: delivery.clusterId,
        communeId: cluster?.communeId ?? null,
        communeCode: commune?.code ?? null,
        state: delivery.state,
        outcome,
      },
    },
  };
}

/** A commune's receipt of a provincial bulletin changed (pending, scheduled, declined, aired, …). */
export function bulletinReceiptEvent(
  receipt: { bulletinId: string; communeId: string; state: ReceiptState; at: number },
  places: Places,
): ScopedEvent {
  const commune = places.commune(receipt.communeId);
  return {
    communeId: receipt.communeId,
    provinceId: commune?.provinceId ?? null,
    event: {
      id: eventId(),
      type: 'bulletin.receipt',
      occurredAt: isoTime(receipt.at),
      data: {
        provincialBulletinId: receipt.bulletinId,
        communeId: receipt.communeId,
        communeCode: commune?.code ?? null,
        state: receipt.state,
      },
    },
  };
}

/** An alarm or a village outage as people are told of it (services/notifications decides). */
export function alarmNoticeEvent(notice: AlarmNotice, places: Places): ScopedEvent {
  const commune = places.commune(notice.communeId);
  return {
    communeId: notice.communeId,
    provinceId: commune?.provinceId ?? null,
    event: {
      id: eventId(),
      type: 'alarm',
      occurredAt: isoTime(notice.at),
      data: {
        noticeId: notice.id,
        subject: notice.subject,
        change: notice.change,
        alarmId: notice.alarmId,
        incidentId: notice.incidentId,
        kind: notice.kind,
        severity: notice.severity,
        communeId: notice.communeId,
        communeCode: commune?.code ?? null,
        villageId: notice.villageId,
        deviceIds: notice.deviceIds,
        detail: notice.detail,
      },
    },
  };
}
