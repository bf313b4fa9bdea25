/**
 * Vietnamese text as a speaker reads it aloud, before synthesis: numbers, dates, times, money,
 * units, phone numbers and the abbreviations of local government become words. A synthesizer
 * left to itself spells "UBND" letter by letter, reads "14h30" as "mười bốn hát ba mươi" and
 * "0912 345 678" as three numbers.
 *
 * The dialect changes a few words: the north says "nghìn" and "linh" (một trăm linh năm), the
 * south "ngàn" and "lẻ".
 */
export type Dialect = 'northern' | 'central' | 'southern';

const DIGITS = ['không', 'một', 'hai', 'ba', 'bốn', 'năm', 'sáu', 'bảy', 'tám', 'chín'];

/** Local government and everyday abbreviations, longest first where one contains another. */
const ABBREVIATIONS: [string, string][] = [
  ['UBMTTQ', 'Ủy ban Mặt trận Tổ quốc'],
  ['UBND', 'Ủy ban nhân dân'],
  ['HĐND', 'Hội đồng nhân dân'],
  ['MTTQ', 'Mặt trận Tổ quốc'],
  ['PCCC', 'phòng cháy chữa cháy'],
  ['PCTT', 'phòng chống thiên tai'],
  ['TKCN', 'tìm kiếm cứu nạn'],
  ['BCH', 'Ban chỉ huy'],
  ['CAX', 'Công an xã'],
  ['CSGT', 'cảnh sát giao thông'],
  ['ATGT', 'an toàn giao thông'],
  ['BHYT', 'bảo hiểm y tế'],
  ['BHXH', 'bảo hiểm xã hội'],
  ['THCS', 'trung học cơ sở'],
  ['THPT', 'trung học phổ thông'],
  ['KDC', 'khu dân cư'],
  ['HTX', 'hợp tác xã'],
  ['TP', 'thành phố'],
  ['VN', 'Việt Nam'],
];

/** Units after a number, as they are read; longest first. */
const UNITS: [string, string][] = [
  ['km/h', 'ki-lô-mét trên giờ'],
  ['m/s', 'mét trên giây'],
  ['m³', 'mét khối'],
  ['m3', 'mét khối'],
  ['m²', 'mét vuông'],
  ['m2', 'mét vuông'],
  ['°C', 'độ C'],
  ['mm', 'mi-li-mét'],
  ['cm', 'xen-ti-mét'],
  ['km', 'ki-lô-mét'],
  ['kg', 'ki-lô-gam'],
  ['ha', 'héc-ta'],
  ['%', 'phần trăm'],
  ['m', 'mét'],
  ['l', 'lít'],
];

/** 0–999 as words; `full` reads a leading zero hundreds ("không trăm") inside a larger number. */
function hundreds(n: number, full: boolean, dialect: Dialect): string {
  const h = Math.floor(n / 100);
  const t = Math.floor((n % 100) / 10);
  const u = n % 10;
  const words: string[] = [];
  if (h > 0 || full) words.push(DIGITS[h] as string, 'trăm');
  if (t === 0 && u === 0) return words.join(' ');
  if (t === 0) {
    if (h > 0 || full) words.push(dialect === 'southern' ? 'lẻ' : 'linh');
    words.push(DIGITS[u] as string);
    return words.join(' ');
  }
  if (t === 1) words.push('mười');
  else words.push(DIGITS[t] as string, 'mươi');
  if (u === 1 && t > 1) words.push('mốt');
  else if (u === 4 && t > 1) words.push('tư');
  else if (u === 5) words.push('lăm');
  else if (u > 0) words.push(DIGITS[u] as string);
  return words.join(' ');
}

/** A whole number as words: "hai nghìn không trăm hai mươi sáu". */
export function numberToWords(n: number, dialect: Dialect = 'northern'): string {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`not a whole number: ${n}`);
  if (n === 0) return 'không';
  const scales = ['', dialect === 'southern' ? 'ngàn' : 'nghìn', 'triệu', 'tỷ'];
  const groups: number[] = [];
  for (let rest = n; rest > 0; rest = Math.floor(rest / 1000)) groups.push(rest % 1000);
  // Beyond a thousand billion, "nghìn tỷ": the groups past the billions are read again from the start.
  const words: string[] = [];
  for (let i = groups.length - 1; i >= 0; i--) {
    const group = groups[i] as number;
    if (group === 0) continue;
    words.push(hundreds(group, i < groups.length - 1, dialect));
    const scale = i % 3 === 0 && i > 0 ? scales[3] : scales[i % 3];
    if (scale) words.push(scale);
  }
  return words.join(' ');
}

/** A decimal as read: "hai phẩy năm"; the part after the comma digit by digit when it starts with 0. */
function decimalToWords(whole: string, fraction: string, dialect: Dialect): string {
  const after = fraction.startsWith('0')
    ? [...fraction].map((d) => DIGITS[Number(d)]).join(' ')
    : numberToWords(Number(fraction), dialect);
  return `${numberToWords(Number(whole), dialect)} phẩy ${after}`;
}

/** Month names: tháng tư, not "tháng bốn". */
function monthWords(m: number, dialect: Dialect): string {
  return m === 4 ? 'tư' : numberToWords(m, dialect);
}

function digitsOf(text: string): string {
  return [...text].map((d) => DIGITS[Number(d)]).join(' ');
}

interface Rule {
  pattern: RegExp;
  read(match: RegExpExecArray, dialect: Dialect): string;
}

const RULES: Rule[] = [
  // Phone numbers: 10 or 11 digits starting with 0, as written in groups (or in 4-3-3 when written
  // together); read digit by digit, group by group.
  {
    pattern: /(?<![\d.,])0\d{2,4}(?:[ .]\d{2,4}){1,3}(?![\d.,])|(?<![\d.,])0\d{9,10}(?![\d.,])/gu,
    read: (m) => {
      const written = m[0];
      const digits = written.replace(/[ .]/g, '');
      if (digits.length < 10 || digits.length > 11) return written;
      const groups = /[ .]/.test(written)
        ? written.split(/[ .]/)
        : [digits.slice(0, 4), digits.slice(4, 7), digits.slice(7)];
      return groups.map(digitsOf).join(', ');
    },
  },
  // Dates: 2/12/2026, 02-12-2026, 2/12 ("ngày" is said unless the text already says it).
  {
    pattern: /(?<![\d/])(ngày\s+|Ngày\s+)?(\d{1,2})[/-](\d{1,2})(?:[/-](\d{4}))?(?![\d/])/gu,
    read: (m, dialect) => {
      const day = Number(m[2]);
      const month = Number(m[3]);
      if (day < 1 || day > 31 || month < 1 || month > 12) return m[0];
      const prefix = m[1] ? m[1] : 'ngày ';
      const year = m[4] ? ` năm ${numberToWords(Number(m[4]), dialect)}` : '';
      return `${prefix}${numberToWords(day, dialect)} tháng ${monthWords(month, dialect)}${year}`;
    },
  },
  // Times: 14h30, 14h, 14:30, 7 giờ 5 phút stays as words around the numbers.
  {
    pattern: /(?<![\d:\p{L}])(\d{1,2})(?:h|g|:)(\d{2})?(?:'|p)?(?![\d:\p{L}])/gu,
    read: (m, dialect) => {
      const h = Number(m[1]);
      const min = m[2] === undefined ? 0 : Number(m[2]);
      if (h > 24 || min > 59) return m[0];
      const minutes = m[2] === undefined || min === 0 ? '' : ` ${numberToWords(min, dialect)} phút`;
      return `${numberToWords(h, dialect)} giờ${minutes}`;
    },
  },
  // "tháng 4" (the month) is tháng tư.
  {
    pattern: /\b(tháng|Tháng)\s+(\d{1,2})(?!\d)/gu,
    read: (m, dialect) => {
      const month = Number(m[2]);
      return month >= 1 && month <= 12 ? `${m[1]} ${monthWords(month, dialect)}` : m[0];
    },
  },
  // Numbers with a unit or a currency, then plain numbers: 1.500.000 (dots group thousands), 2,5.
  {
    pattern: /(?<![\d\p{L}])(\d{1,3}(?:\.\d{3})+|\d+)(?:,(\d+))?(\s?)/gu,
    read: (m, dialect) => {
      const whole = (m[1] as string).replaceAll('.', '');
      const spoken = m[2] ? decimalToWords(whole, m[2], dialect) : numberToWords(Number(whole), dialect);
      return `${spoken}${m[3]}`;
    },
  },
];

const NUMBER_WORD =
  '(?:không|một|mốt|hai|ba|bốn|tư|năm|lăm|sáu|bảy|tám|chín|mười|mươi|trăm|linh|lẻ|nghìn|ngàn|triệu|tỷ|phẩy)';
const CURRENCY = ['VNĐ', 'VND', 'đồng', 'đ'];

/** Units and currency right after a number (already read as words): "150 mi-li-mét", "500 nghìn đồng". */
function readUnits(text: string): string {
  const names = [...UNITS.map(([unit]) => unit), ...CURRENCY].map(escapeRegExp).join('|');
  const after = new RegExp(`(${NUMBER_WORD})\\s?(${names})(?![\\p{L}\\d/])`, 'gu');
  return text.replace(after, (_all, number: string, unit: string) => {
    const word = CURRENCY.includes(unit) ? 'đồng' : (UNITS.find(([u]) => u === unit)?.[1] ?? unit);
    return `${number} ${word}`;
  });
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** Expands abbreviations written as whole words (UBND, not "UBNDX"). */
function readAbbreviations(text: string): string {
  let out = text;
  for (const [short, long] of ABBREVIATIONS) {
    out = out.replace(new RegExp(`(?<![\\p{L}\\d])${escapeRegExp(short)}(?![\\p{L}\\d])`, 'gu'), long);
  }
  return out;
}

/** The text as it should be spoken: every rule in order, then units, then abbreviations. */
export function normalizeVietnamese(text: string, dialect: Dialect = 'northern'): string {
  let out = text.normalize('NFC');
  for (const rule of RULES)
    out = out.replace(rule.pattern, (...args) => rule.read(args as unknown as RegExpExecArray, dialect));
  out = readUnits(out);
  out = readAbbreviations(out);
  return out.replace(/[ \t]+/g, ' ').trim();
}
