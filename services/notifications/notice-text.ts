import type { Severity } from '../../contracts/alarms.js';
import type { NoticeKind } from '../../contracts/notifications.js';
import type { AlarmNotice } from './alarm-notices.js';

/** What the words need to name: the commune, the village, each device. */
export interface NoticePlaces {
  communeName: string;
  villageName: string | null;
  timeZone: string;
  deviceName(id: string): string | null;
}

export interface MessageText {
  subject: string;
  /** One line, as a digest lists it. */
  title: string;
  body: string;
}

/** A digest names at most this many notices; the log holds every one. */
export const DIGEST_MAX_LINES = 30;

// Messages go to commune staff and village heads: in Vietnamese, like the console's default.
const KIND: Record<NoticeKind, string> = {
  'cluster-offline': 'Cụm loa mất kết nối',
  'weak-signal': 'Tín hiệu mạng yếu',
  overheating: 'Tủ thiết bị quá nóng',
  'low-supply': 'Nguồn điện yếu',
  'speaker-fault': 'Loa bị lỗi',
  'rejected-messages': 'Thiết bị gửi dữ liệu sai',
  'camera-offline': 'Camera mất kết nối',
  'camera-auth-failed': 'Camera từ chối đăng nhập',
  'not-delivered': 'Bản tin không phát được',
  'village-outage': 'Mất điện hoặc mất mạng cả thôn',
  'reach-gap': 'Bản tin chưa phát tới thôn',
};

const SEVERITY: Record<Severity, string> = { critical: 'KHẨN', warning: 'Cảnh báo', info: 'Thông tin' };

const formatters = new Map<string, Intl.DateTimeFormat>();

/** `08:05 07/12/2026` in the commune's zone. */
export function localTime(at: number, timeZone: string): string {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-GB', {
      timeZone,
      hourCycle: 'h23',
      hour: '2-digit',
      minute: '2-digit',
      day: '2-digit',
      month: '2-digit',
      year: 'numeric',
    });
    formatters.set(timeZone, formatter);
  }
  const parts = formatter.formatToParts(new Date(at));
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return `${part('hour')}:${part('minute')} ${part('day')}/${part('month')}/${part('year')}`;
}

const deviceLabel = (places: NoticePlaces, id: string) => {
  const name = places.deviceName(id);
  return name ? `${name} (${id})` : id;
};

/** The words of one notice: subject, its line in a digest, and the message. */
export function noticeText(notice: AlarmNotice, places: NoticePlaces): MessageText {
  const where = places.villageName ?? places.communeName;
  const outage = notice.subject === 'village-outage';
  let title: string;
  if (notice.change === 'opened') {
    const what = outage
      ? `${KIND[notice.kind]} — ${where} (${notice.deviceIds.length} thiết bị)`
      : `${KIND[notice.kind]} — ${deviceLabel(places, notice.deviceIds[0] ?? '')}, ${where}`;
    title = `${SEVERITY[notice.severity]}: ${what}`;
  } else {
    title = outage
      ? `Đã khôi phục: ${where} — mọi thiết bị hoạt động trở lại`
      : `Đã hết: ${KIND[notice.kind]} — ${deviceLabel(places, notice.deviceIds[0] ?? '')}, ${where}`;
  }
  const lines = [
    title,
    '',
    `Xã: ${places.communeName}${places.villageName ? `, ${places.villageName}` : ''}`,
    `Lúc: ${localTime(notice.at, places.timeZone)}`,
    `Thiết bị: ${notice.deviceIds.map((id) => deviceLabel(places, id)).join(', ')}`,
  ];
  if (outage && notice.change === 'opened')
    lines.push(
      'Chi tiết: các thiết bị của thôn cùng mất kết nối (có thể do mất điện hoặc mất mạng); ' +
        'cảnh báo của từng thiết bị không gửi riêng.',
    );
  else if (!outage && notice.change === 'opened' && notice.detail) lines.push(`Chi tiết: ${notice.detail}`);
  lines.push(
    '',
    outage ? `Mã sự cố: ${notice.incidentId}` : `Mã cảnh báo: ${notice.alarmId}`,
    'Tin nhắn tự động của hệ thống truyền thanh thông minh.',
  );
  return { subject: `[${places.communeName}] ${title}`, title, body: lines.join('\n') };
}

/** One message gathering several notices of one recipient (oldest first). */
export function digestText(
  items: readonly { title: string; at: number }[],
  communeName: string,
  timeZone: string,
): MessageText {
  const shown = items.slice(0, DIGEST_MAX_LINES);
  const more = items.length - shown.length;
  const title = `Tổng hợp ${items.length} cảnh báo`;
  const first = items[0]?.at ?? 0;
  const last = items.at(-1)?.at ?? first;
  const lines = [
    `${title} (${localTime(first, timeZone)} – ${localTime(last, timeZone)}):`,
    '',
    ...shown.map((item) => `- ${localTime(item.at, timeZone).slice(0, 5)} ${item.title}`),
  ];
  if (more > 0) lines.push(`- … và ${more} cảnh báo khác (xem nhật ký thông báo trên hệ thống)`);
  lines.push('', 'Tin nhắn tự động của hệ thống truyền thanh thông minh.');
  return { subject: `[${communeName}] ${title}`, title, body: lines.join('\n') };
}

/** The text of a test message. */
export function testText(contactName: string, communeName: string): MessageText {
  const title = `Tin nhắn thử cho ${contactName}`;
  return {
    subject: `[${communeName}] ${title}`,
    title,
    body: `${title}: kênh này nhận được cảnh báo của xã ${communeName}.\n\nTin nhắn tự động của hệ thống truyền thanh thông minh.`,
  };
}

const LEVEL_WORDS = { emergency: 'khẩn cấp', priority: 'ưu tiên', normal: 'thông thường' } as const;

/** What a reach-gap follow-up names: the broadcast, the village, its clusters that stayed silent. */
export interface ReachFacts {
  broadcastId: string;
  broadcastName: string;
  level: keyof typeof LEVEL_WORDS;
  startAt: number;
  villageName: string;
  communeName: string;
  /** Whether some of the village's clusters played it. */
  reached: boolean;
  missing: { name: string; reason: string | null }[];
  timeZone: string;
}

/**
 * The follow-up to a village head whose village's clusters did not play a broadcast: which one,
 * when, which clusters stayed silent, and what to do (pass the news on by other means).
 */
export function reachText(facts: ReachFacts): MessageText {
  const title = `${facts.level === 'emergency' ? 'KHẨN: ' : ''}Bản tin ${LEVEL_WORDS[facts.level]} "${facts.broadcastName}" ${
    facts.reached ? 'chưa phát đủ ở' : 'chưa phát được ở'
  } ${facts.villageName}`;
  const lines = [
    title,
    '',
    `Xã: ${facts.communeName}, ${facts.villageName}`,
    `Bản tin: ${facts.broadcastName} (${LEVEL_WORDS[facts.level]}), phát lúc ${localTime(facts.startAt, facts.timeZone)}`,
    `Cụm loa không phát: ${facts.missing
      .map((m) => (m.reason ? `${m.name} (${m.reason})` : m.name))
      .join(', ')}`,
    '',
    'Đề nghị trưởng thôn thông báo nội dung bản tin tới bà con bằng cách khác (loa cầm tay, gặp trực tiếp, nhóm tin nhắn).',
    '',
    `Mã bản tin: ${facts.broadcastId}`,
    'Tin nhắn tự động của hệ thống truyền thanh thông minh.',
  ];
  return { subject: `[${facts.communeName}] ${title}`, title, body: lines.join('\n') };
}
