import type { Severity } from '../../contracts/alarms.js';
import type { NoticeKind, NotifyChannel } from '../../contracts/notifications.js';

/** What routing needs of a recipient. */
export interface Recipient {
  id: string;
  name: string;
  email: string | null;
  telegramChatId: string | null;
  zaloUserId: string | null;
  villageHead: boolean;
  villageId: string | null;
  enabled: boolean;
}

/** What routing needs of a rule. */
export interface RoutingRule {
  kinds: readonly NoticeKind[];
  minSeverity: Severity;
  contactIds: readonly string[];
  villageHeads: boolean;
  channels: readonly NotifyChannel[];
  enabled: boolean;
}

const RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };

/** Whether an alarm of severity `severity` reaches a rule's minimum. */
export function atLeast(severity: Severity, minimum: Severity): boolean {
  return RANK[severity] >= RANK[minimum];
}

/** A recipient's address on a channel, or null when it has none. */
export function addressOf(recipient: Recipient, channel: NotifyChannel): string | null {
  if (channel === 'email') return recipient.email;
  if (channel === 'telegram') return recipient.telegramChatId;
  return recipient.zaloUserId;
}

/**
 * Who is told of an alarm, outage or reach gap, and on which channel: every enabled rule that
 * matches its kind and reaches its severity names recipients (listed ones, and with `villageHeads` the heads
 * of the alarm's village); each enabled recipient is told once per channel of those rules it has
 * an address for, however many rules name it.
 */
export function route<R extends Recipient>(
  notice: { kind: NoticeKind; severity: Severity; villageId: string | null },
  rules: readonly RoutingRule[],
  recipients: readonly R[],
): { recipient: R; channel: NotifyChannel }[] {
  const out = new Map<string, { recipient: R; channel: NotifyChannel }>();
  for (const rule of rules) {
    if (!rule.enabled) continue;
    // A reach gap is followed up automatically only where a rule asks for it by name.
    if (rule.kinds.length > 0 ? !rule.kinds.includes(notice.kind) : notice.kind === 'reach-gap') continue;
    if (!atLeast(notice.severity, rule.minSeverity)) continue;
    for (const recipient of recipients) {
      if (!recipient.enabled) continue;
      const named = rule.contactIds.includes(recipient.id);
      const head =
        rule.villageHeads &&
        recipient.villageHead &&
        notice.villageId !== null &&
        recipient.villageId === notice.villageId;
      if (!named && !head) continue;
      for (const channel of rule.channels) {
        if (addressOf(recipient, channel) === null) continue;
        out.set(`${recipient.id}|${channel}`, { recipient, channel });
      }
    }
  }
  return [...out.values()];
}
