import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Severity } from '../../contracts/alarms.js';
import type { Level } from '../../contracts/broadcasts.js';
import { NOTIFY_CHANNELS, type NotifyChannel } from '../../contracts/notifications.js';
import type { Clock } from '../../devices/index.js';
import type { BroadcastRecord, DeliveryRecord } from '../broadcasts/broadcast-store.js';
import { type ReachGapVillage, reachGap } from '../broadcasts/reach.js';
import { ConflictError, InvalidRequestError, NotFoundError } from '../errors.js';
import type { RegistryStore } from '../registry/registry-store.js';
import { REPORT_WORDS, reasonWords } from '../reports/report-words.js';
import { reachText } from './notice-text.js';
import type { NotificationLog } from './notification-log.js';
import type { Outbox } from './outbox.js';
import { quietUntil } from './quiet-hours.js';
import type { ContactRecord, RecipientStore } from './recipient-store.js';
import { addressOf, route } from './routing.js';

/** An emergency's gap is critical (it may wake a village head, as a critical alarm may). */
const SEVERITY_OF: Record<Level, Severity> = { emergency: 'critical', priority: 'warning', normal: 'info' };

export interface ReachNoticesOptions {
  broadcast(id: string): { broadcast: BroadcastRecord; deliveries: DeliveryRecord[] };
  /** A broadcast's status alone (cheap: its deliveries are read only once it finished). */
  status(id: string): BroadcastRecord['status'] | null;
  registry: Pick<RegistryStore, 'clusterLabels' | 'getVillage'>;
  recipients: RecipientStore;
  log: NotificationLog;
  outbox: Outbox;
  clock: Clock;
  logger: Logger;
  commune(id: string): { name: string; timeZone: string };
  /** Beyond this many notices waiting for one recipient and channel, the oldest are dropped. */
  maxWaitingPerRecipient: number;
  onSuppressed?: (channel: NotifyChannel, reason: string) => void;
}

export type ReachOutcome = 'queued' | 'already-told' | 'no-head';

export interface ReachFollowUp {
  village: ReachGapVillage;
  outcome: ReachOutcome;
  notificationIds: string[];
}

/**
 * Follows up a broadcast's reach gap with the heads of the villages whose clusters did not play
 * it (GET /broadcasts/{id}/reach), on the notification channels: when an operator asks, and by
 * itself when a broadcast finishes in a commune with a rule listing `reach-gap`. Each village is
 * told of each broadcast once; the messages are queued in the log like alarm notices, so quiet
 * hours (an emergency's skip them), digests, retries and the log apply alike.
 */
export class ReachNotices {
  private readonly log: Logger;

  constructor(private readonly options: ReachNoticesOptions) {
    this.log = options.logger.child({ component: 'reach-notices' });
  }

  /**
   * The operator's follow-up: the heads of the villages that missed the broadcast (of `communes`,
   * null: all; some of them with `villageIds`) on `channels`.
   */
  notify(
    broadcastId: string,
    request: {
      communes: readonly string[] | null;
      villageIds?: readonly string[];
      channels?: readonly NotifyChannel[];
    },
  ): ReachFollowUp[] {
    const { broadcast, deliveries } = this.options.broadcast(broadcastId);
    const { communes } = request;
    const { registry } = this.options;
    let own = deliveries;
    if (communes !== null) {
      // A caller limited to some communes sees the broadcast only where it went to their clusters.
      const labels = registry.clusterLabels(deliveries.map((d) => d.clusterId));
      const villageCommune = new Map<string, string>();
      const communeOf = (villageId: string) => {
        let communeId = villageCommune.get(villageId);
        if (communeId === undefined) {
          communeId = registry.getVillage(villageId).communeId;
          villageCommune.set(villageId, communeId);
        }
        return communeId;
      };
      own = deliveries.filter((d) => {
        const villageId = labels.get(d.clusterId)?.villageId;
        return villageId !== undefined && communes.includes(communeOf(villageId));
      });
      if (own.length === 0) throw new NotFoundError('broadcast', broadcastId);
    }
    const gap = reachGap(own, registry);
    if (!gap.final)
      throw new ConflictError(
        'the broadcast still has deliveries under way: its reach gap is not known yet',
        {},
      );
    const visible = gap.villages;
    const unknown = request.villageIds?.find((id) => !visible.some((v) => v.villageId === id));
    if (unknown !== undefined) {
      const message = `"${unknown}" is not a village that missed this broadcast`;
      throw new InvalidRequestError(`body.villageIds: ${message}`, [{ field: 'body.villageIds', message }]);
    }
    const chosen = request.villageIds
      ? visible.filter((v) => request.villageIds?.includes(v.villageId))
      : visible;
    const channels = request.channels ?? NOTIFY_CHANNELS;
    return chosen.map((village) => {
      const heads = this.options.recipients
        .contactsOf(village.communeId)
        .filter((c) => c.enabled && c.villageHead && c.villageId === village.villageId);
      const targets = heads.flatMap((recipient) =>
        channels
          .filter((channel) => addressOf(recipient, channel) !== null)
          .map((channel) => ({ recipient, channel })),
      );
      return this.followUp(broadcast, village, targets);
    });
  }

  /** A broadcast finished: villages that missed it are followed up where a commune's rule says so. */
  finished(broadcastId: string): void {
    if (this.options.status(broadcastId) !== 'finished') return;
    const { broadcast, deliveries } = this.options.broadcast(broadcastId);
    if (broadcast.status !== 'finished') return;
    const gap = reachGap(deliveries, this.options.registry);
    if (!gap.final) return;
    const severity = SEVERITY_OF[broadcast.level];
    for (const village of gap.villages) {
      const { recipients } = this.options;
      const rules = recipients.rulesOf(village.communeId);
      if (!rules.some((r) => r.enabled && r.kinds.includes('reach-gap'))) continue;
      const targets = route(
        { kind: 'reach-gap', severity, villageId: village.villageId },
        rules,
        recipients.contactsOf(village.communeId),
      );
      // No one to tell: left for an operator to follow up (a head may be added meanwhile).
      if (targets.length > 0) this.followUp(broadcast, village, targets);
    }
  }

  private followUp(
    broadcast: BroadcastRecord,
    village: ReachGapVillage,
    targets: readonly { recipient: ContactRecord; channel: NotifyChannel }[],
  ): ReachFollowUp {
    const { log, recipients, clock, commune } = this.options;
    if (targets.length === 0) return { village, outcome: 'no-head', notificationIds: [] };
    const now = clock.now();
    const noticeId = `nt-${randomBytes(6).toString('hex')}`;
    if (
      !log.recordReach({
        noticeId,
        broadcastId: broadcast.id,
        villageId: village.villageId,
        communeId: village.communeId,
        at: now,
      })
    )
      return { village, outcome: 'already-told', notificationIds: [] };
    const place = commune(village.communeId);
    const labels = this.options.registry.clusterLabels(village.missing.map((m) => m.clusterId));
    const text = reachText({
      broadcastId: broadcast.id,
      broadcastName: broadcast.name,
      level: broadcast.level,
      startAt: broadcast.startAt,
      villageName: village.villageName,
      communeName: place.name,
      reached: village.reached,
      // The delivery reasons in the words the printed report uses (offline: "cụm loa mất kết nối").
      missing: village.missing.map((m) => ({
        name: labels.get(m.clusterId)?.name ?? m.clusterId,
        reason: m.reason ? reasonWords(REPORT_WORDS.vi, m.reason) : null,
      })),
      timeZone: place.timeZone,
    });
    const severity = SEVERITY_OF[broadcast.level];
    const settings = recipients.settings(village.communeId);
    const bypass = severity === 'critical' && settings.criticalBypassesQuiet;
    const notificationIds = targets.map(({ recipient, channel }) => {
      const quietEnd = bypass
        ? null
        : quietUntil(now, recipient.quietHours ?? settings.quietHours, place.timeZone);
      const last = log.lastFormedAt(recipient.id, channel);
      const windowEnd = last === null ? null : last + settings.digestWindowMin * 60_000;
      const dueAt = Math.max(now, quietEnd ?? now, windowEnd ?? now);
      const id = log.addReach({
        noticeId,
        communeId: village.communeId,
        broadcastId: broadcast.id,
        villageId: village.villageId,
        severity,
        contactId: recipient.id,
        contactName: recipient.name,
        channel,
        text,
        reason: quietEnd !== null && quietEnd >= dueAt ? 'quiet' : dueAt > now ? 'digest-window' : null,
        dueAt,
        now,
      });
      const dropped = log.overflow(recipient.id, channel, this.options.maxWaitingPerRecipient, now);
      for (let i = 0; i < dropped; i++) this.options.onSuppressed?.(channel, 'overflow');
      return id;
    });
    this.log.info(
      { broadcastId: broadcast.id, villageId: village.villageId, recipients: targets.length },
      'reach gap followed up with the village heads',
    );
    this.options.outbox.wake();
    return { village, outcome: 'queued', notificationIds };
  }
}
