import type { DeliveryState, Level } from '../../contracts/broadcasts.js';

export type ReportLanguage = 'vi' | 'en';

/** The summary report's words in the console's two languages: CSV headers, the printable report. */
export interface ReportWords {
  title: string;
  nation: string;
  motto: string;
  people: string;
  /** The unit that reports, above its name: "UBND XÃ" before a commune's name. */
  communeUnit: (name: string) => string;
  scopeAll: string;
  communeCount: string;
  scopeCommunes: (count: number) => string;
  period: (from: string, to: string) => string;
  generated: (at: string) => string;
  printHint: string;
  sections: {
    totals: string;
    levels: string;
    communes: string;
    broadcasts: string;
    failures: string;
    definitions: string;
  };
  headers: Record<CsvColumn, string>;
  level: Record<Level, string>;
  origin: { province: string; commune: string };
  state: Record<DeliveryState, string>;
  kind: Record<'scheduled' | 'emergency' | 'live' | 'talk', string>;
  total: string;
  totalNote: string;
  broadcastColumns: {
    start: string;
    name: string;
    level: string;
    origin: string;
    communes: string;
    targeted: string;
    done: string;
    heard: string;
    rate: string;
    aired: string;
  };
  failureColumns: { state: string; reason: string; count: string };
  moreBroadcasts: (count: number) => string;
  noBroadcasts: string;
  noHistory: (why: string) => string;
  noReason: string;
  reasons: Record<string, string>;
  definitions: string[];
  preparer: string;
  /** Who signs for the reporting unit: the commune's chairman, or the head of another unit. */
  signer: { commune: string; other: string };
  signHint: string;
  preparerHint: string;
  /** The place and date line under the motto; without a place, the date alone. */
  placeDate: (place: string | null, day: string, month: string, year: string) => string;
}

export const CSV_COLUMNS = [
  'code',
  'commune',
  'province',
  'bulletins',
  'emergencyProvince',
  'emergencyCommune',
  'priorityProvince',
  'priorityCommune',
  'normalProvince',
  'normalCommune',
  'airedH',
  'clusterAiredH',
  'targeted',
  'done',
  'heard',
  'deliveryPct',
  'clusters',
  'uptimePct',
  'clustersWithOutage',
  'failedDeliveries',
  'speakerFaultDeliveries',
  // Added after the rest, so a spreadsheet reading columns by position still finds them.
  'offlineH',
  'maintenanceH',
] as const;
export type CsvColumn = (typeof CSV_COLUMNS)[number];

/** Delivery reasons the dispatcher and the clusters give most often, in words. */
const REASONS_VI: Record<string, string> = {
  offline: 'cụm loa mất kết nối',
  'platform-down': 'hệ thống ngừng hoạt động vào giờ phát',
  'clock-jump': 'đồng hồ máy chủ bị chỉnh lệch',
  'no answer before expiry': 'cụm loa không trả lời trước khi quá hạn',
  'no completion report': 'không nhận được báo cáo phát xong',
  expired: 'quá hạn trước khi phát',
  'fetch-failed': 'không tải được âm thanh',
  'fetch-failed before any sound': 'không tải được âm thanh trước khi phát',
  'checksum-mismatch': 'tệp âm thanh tải về bị sai',
  'invalid-command': 'lệnh không hợp lệ',
  unsupported: 'thiết bị không hỗ trợ',
  internal: 'lỗi bên trong thiết bị',
  busy: 'đang phát bản tin ưu tiên hơn',
};

export const REPORT_WORDS: Record<ReportLanguage, ReportWords> = {
  vi: {
    title: 'BÁO CÁO TÌNH HÌNH HOẠT ĐỘNG ĐÀI TRUYỀN THANH CƠ SỞ',
    nation: 'CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM',
    motto: 'Độc lập - Tự do - Hạnh phúc',
    people: 'ỦY BAN NHÂN DÂN',
    communeUnit: (name) => (/^(xã|phường|đặc khu|thị trấn)\s/i.test(name) ? name : `Xã ${name}`),
    scopeAll: 'Tất cả các xã',
    communeCount: 'Số xã',
    scopeCommunes: (count) => `${count} xã`,
    period: (from, to) => `Từ ngày ${from} đến ngày ${to}`,
    generated: (at) => `Lập lúc ${at}`,
    printHint: 'Dùng lệnh In của trình duyệt (Ctrl+P) để in hoặc lưu thành PDF.',
    sections: {
      totals: 'Tổng hợp',
      levels: 'Số bản tin theo mức độ và nguồn tin',
      communes: 'Theo từng xã',
      broadcasts: 'Tỷ lệ phát thành công theo bản tin',
      failures: 'Lượt phát lỗi theo nguyên nhân',
      definitions: 'Cách tính',
    },
    headers: {
      code: 'Mã xã',
      commune: 'Xã',
      province: 'Tỉnh',
      bulletins: 'Số bản tin',
      emergencyProvince: 'Khẩn cấp - của tỉnh',
      emergencyCommune: 'Khẩn cấp - của xã',
      priorityProvince: 'Ưu tiên - của tỉnh',
      priorityCommune: 'Ưu tiên - của xã',
      normalProvince: 'Thông thường - của tỉnh',
      normalCommune: 'Thông thường - của xã',
      airedH: 'Giờ phát sóng (giờ)',
      clusterAiredH: 'Tổng giờ phát của các cụm loa (giờ)',
      targeted: 'Lượt phát đến cụm loa',
      done: 'Phát xong',
      heard: 'Đã phát ra loa',
      deliveryPct: 'Tỷ lệ phát thành công (%)',
      clusters: 'Số cụm loa',
      uptimePct: 'Tỷ lệ hoạt động (%)',
      offlineH: 'Mất kết nối ngoài giờ bảo trì (giờ cụm loa)',
      maintenanceH: 'Ngừng hoạt động khi bảo trì (giờ cụm loa)',
      clustersWithOutage: 'Cụm loa có lúc mất kết nối',
      failedDeliveries: 'Lượt phát lỗi',
      speakerFaultDeliveries: 'Lượt phát có loa hỏng',
    },
    level: { normal: 'Thông thường', priority: 'Ưu tiên', emergency: 'Khẩn cấp' },
    origin: { province: 'Của tỉnh', commune: 'Của xã' },
    state: {
      scheduled: 'Chờ gửi',
      sent: 'Đã gửi',
      accepted: 'Đã nhận',
      playing: 'Đang phát',
      done: 'Đã phát xong',
      failed: 'Lỗi',
      missed: 'Bỏ lỡ',
      'pre-empted': 'Bị bản tin ưu tiên hơn thay thế',
      expired: 'Hết hạn',
      stopped: 'Đã dừng',
    },
    kind: { scheduled: 'Theo lịch', emergency: 'Khẩn cấp', live: 'Tiếp sóng', talk: 'Phát trực tiếp' },
    total: 'Tổng cộng',
    totalNote: 'Dòng tổng cộng đếm mỗi bản tin một lần, dù bản tin đến nhiều xã.',
    broadcastColumns: {
      start: 'Giờ phát',
      name: 'Bản tin',
      level: 'Mức độ',
      origin: 'Nguồn tin',
      communes: 'Số xã',
      targeted: 'Số cụm nhận',
      done: 'Phát xong',
      heard: 'Đã phát ra loa',
      rate: 'Tỷ lệ (%)',
      aired: 'Thời lượng',
    },
    failureColumns: { state: 'Kết quả', reason: 'Nguyên nhân', count: 'Số lượt' },
    moreBroadcasts: (count) => `… và ${count} bản tin khác (xem nhật ký phát).`,
    noBroadcasts: 'Không có bản tin nào trong kỳ báo cáo.',
    noHistory: (why) => `Chưa có số liệu tỷ lệ hoạt động: kho lịch sử không trả lời (${why}).`,
    noReason: 'không rõ',
    reasons: REASONS_VI,
    definitions: [
      'Số bản tin: các bản tin trong nhật ký phát của kỳ báo cáo đã gửi đến ít nhất một cụm loa của xã; bản tin của tỉnh là bản tin do tỉnh gửi xuống.',
      'Giờ phát sóng: với mỗi bản tin, thời gian phát dài nhất của một cụm loa trong xã, cộng lại; dòng tổng cộng là tổng của các xã.',
      'Tỷ lệ phát thành công: số lượt phát xong chia cho số lượt gửi đến cụm loa.',
      'Tỷ lệ hoạt động: thời gian cụm loa trực tuyến chia cho thời gian đã biết trạng thái, theo lịch sử kết nối; thời gian mất kết nối trong khung giờ bảo trì được tính riêng, không làm giảm tỷ lệ này.',
      'Lượt phát lỗi: lượt phát kết thúc lỗi, bỏ lỡ (cụm loa mất kết nối) hoặc hết hạn mà không phát ra loa. Lượt phát có loa hỏng: cụm loa báo ít nhất một loa hỏng trong khi phát.',
    ],
    preparer: 'NGƯỜI LẬP BIỂU',
    signer: { commune: 'CHỦ TỊCH UBND XÃ', other: 'THỦ TRƯỞNG ĐƠN VỊ' },
    signHint: '(Ký, ghi rõ họ tên, đóng dấu)',
    preparerHint: '(Ký, ghi rõ họ tên)',
    placeDate: (place, day, month, year) =>
      `${place ? `${place}, ngày` : 'Ngày'} ${day} tháng ${month} năm ${year}`,
  },
  en: {
    title: 'REPORT ON THE OPERATION OF THE GRASSROOTS RADIO STATION',
    nation: 'SOCIALIST REPUBLIC OF VIETNAM',
    motto: 'Independence - Freedom - Happiness',
    people: "PEOPLE'S COMMITTEE",
    communeUnit: (name) => (/^(xã|phường|đặc khu|thị trấn)\s/i.test(name) ? name : `${name} commune`),
    scopeAll: 'All communes',
    communeCount: 'Communes',
    scopeCommunes: (count) => `${count} communes`,
    period: (from, to) => `From ${from} to ${to}`,
    generated: (at) => `Prepared at ${at}`,
    printHint: "Use the browser's Print command (Ctrl+P) to print or save as PDF.",
    sections: {
      totals: 'Summary',
      levels: 'Bulletins by level and origin',
      communes: 'By commune',
      broadcasts: 'Delivery rate per bulletin',
      failures: 'Failed deliveries by reason',
      definitions: 'Definitions',
    },
    headers: {
      code: 'Commune code',
      commune: 'Commune',
      province: 'Province',
      bulletins: 'Bulletins',
      emergencyProvince: 'Emergency - province',
      emergencyCommune: 'Emergency - commune',
      priorityProvince: 'Priority - province',
      priorityCommune: 'Priority - commune',
      normalProvince: 'Normal - province',
      normalCommune: 'Normal - commune',
      airedH: 'Hours aired',
      clusterAiredH: 'Cluster hours played',
      targeted: 'Deliveries to clusters',
      done: 'Played to the end',
      heard: 'Heard',
      deliveryPct: 'Delivery rate (%)',
      clusters: 'Clusters',
      uptimePct: 'Uptime (%)',
      offlineH: 'Offline outside maintenance (cluster-hours)',
      maintenanceH: 'Down under maintenance (cluster-hours)',
      clustersWithOutage: 'Clusters with an outage',
      failedDeliveries: 'Failed deliveries',
      speakerFaultDeliveries: 'Deliveries with a faulty speaker',
    },
    level: { normal: 'Normal', priority: 'Priority', emergency: 'Emergency' },
    origin: { province: 'Province', commune: 'Commune' },
    state: {
      scheduled: 'scheduled',
      sent: 'sent',
      accepted: 'accepted',
      playing: 'playing',
      done: 'done',
      failed: 'failed',
      missed: 'missed',
      'pre-empted': 'pre-empted',
      expired: 'expired',
      stopped: 'stopped',
    },
    kind: { scheduled: 'scheduled', emergency: 'emergency', live: 'live relay', talk: 'live talk' },
    total: 'Total',
    totalNote: 'The total counts each bulletin once, however many communes it reached.',
    broadcastColumns: {
      start: 'Start',
      name: 'Bulletin',
      level: 'Level',
      origin: 'Origin',
      communes: 'Communes',
      targeted: 'Clusters',
      done: 'Done',
      heard: 'Heard',
      rate: 'Rate (%)',
      aired: 'Aired',
    },
    failureColumns: { state: 'Outcome', reason: 'Reason', count: 'Deliveries' },
    moreBroadcasts: (count) => `… and ${count} more bulletins (see the broadcast log).`,
    noBroadcasts: 'No bulletins in the period.',
    noHistory: (why) => `No uptime figures: the history store did not answer (${why}).`,
    noReason: 'unknown',
    reasons: {},
    definitions: [
      'Bulletins: those in the broadcast log for the period that reached at least one cluster of the commune; province bulletins are those the province sent.',
      "Hours aired: for each bulletin, the longest play of one of the commune's clusters, summed; the total is the communes' sum.",
      'Delivery rate: deliveries played to the end over deliveries sent to clusters.',
      'Uptime: time online over the time whose state is known, from the presence history; time offline inside a maintenance window is reported apart and not counted against it.',
      'Failed deliveries: ended failed, missed (cluster offline) or expired without sound. Deliveries with a faulty speaker: the cluster reported at least one speaker fault while playing.',
    ],
    preparer: 'PREPARED BY',
    signer: { commune: "CHAIRMAN OF THE COMMUNE PEOPLE'S COMMITTEE", other: 'HEAD OF THE UNIT' },
    signHint: '(Signature, full name, seal)',
    preparerHint: '(Signature, full name)',
    placeDate: (place, day, month, year) => `${place ? `${place}, ` : ''}${day}/${month}/${year}`,
  },
};

/** A delivery reason in words: known codes translated, each `;`-separated part on its own. */
export function reasonWords(words: ReportWords, reason: string | null): string {
  if (reason === null || reason === '') return words.noReason;
  return reason
    .split(';')
    .map((part) => part.trim())
    .map(
      (part) =>
        words.reasons[part] ??
        part.replace(/^fetch-failed on \d+ attempts?$/, (m) => words.reasons['fetch-failed'] ?? m),
    )
    .join('; ');
}
