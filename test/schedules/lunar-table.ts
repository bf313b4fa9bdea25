/**
 * The first day of every Vietnamese lunar month of lunar years 2023–2030 (so every mùng 1 and rằm
 * from 1 January 2024 to 31 December 2030), as Hồ Ngọc Đức publishes them.
 *
 * Source: the year table behind his online Vietnamese calendar
 * (https://www.informatik.uni-leipzig.de/~duc/amlich/), computed with his full-precision program
 * rather than the simplified algorithm his article describes, in the copy of `amlich-hnd.js` at
 * github.com/hochanh/amlich, commit 59de074db5c2955827b454d69583b49c5aab6944, array `TK21`
 * ("Years 2000-2099"). Each entry packs, for one lunar year, the offset of Tết from 1 January, the
 * lengths of months 1–12, the leap month and its length; these are those entries decoded, and only
 * the dates are kept. They agree with what was published for 2025: tháng 6 from 25 June to 24 July,
 * tháng 6 nhuận from 25 July to 22 August, the year ending on 16 February 2026
 * (https://biendong.net/2025/01/13/nam-am-lich-at-ty-2025-sieu-dai-co-den-384-ngay-voi-hai-thang-6-ban-co-biet-vi-sao).
 */
export interface LunarYearRow {
  year: number;
  /** The month repeated as a leap month; its start follows the regular month's in `starts`. */
  leapMonth: number | null;
  starts: readonly string[];
}

export const VIETNAM_LUNAR_YEARS: readonly LunarYearRow[] = [
  {
    year: 2023,
    leapMonth: 2,
    starts: [
      '2023-01-22',
      '2023-02-20',
      '2023-03-22',
      '2023-04-20',
      '2023-05-19',
      '2023-06-18',
      '2023-07-18',
      '2023-08-16',
      '2023-09-15',
      '2023-10-15',
      '2023-11-13',
      '2023-12-13',
      '2024-01-11',
    ],
  },
  {
    year: 2024,
    leapMonth: null,
    starts: [
      '2024-02-10',
      '2024-03-10',
      '2024-04-09',
      '2024-05-08',
      '2024-06-06',
      '2024-07-06',
      '2024-08-04',
      '2024-09-03',
      '2024-10-03',
      '2024-11-01',
      '2024-12-01',
      '2024-12-31',
    ],
  },
  {
    year: 2025,
    leapMonth: 6,
    starts: [
      '2025-01-29',
      '2025-02-28',
      '2025-03-29',
      '2025-04-28',
      '2025-05-27',
      '2025-06-25',
      '2025-07-25',
      '2025-08-23',
      '2025-09-22',
      '2025-10-21',
      '2025-11-20',
      '2025-12-20',
      '2026-01-19',
    ],
  },
  {
    year: 2026,
    leapMonth: null,
    starts: [
      '2026-02-17',
      '2026-03-19',
      '2026-04-17',
      '2026-05-17',
      '2026-06-15',
      '2026-07-14',
      '2026-08-13',
      '2026-09-11',
      '2026-10-10',
      '2026-11-09',
      '2026-12-09',
      '2027-01-08',
    ],
  },
  {
    year: 2027,
    leapMonth: null,
    starts: [
      '2027-02-06',
      '2027-03-08',
      '2027-04-07',
      '2027-05-06',
      '2027-06-05',
      '2027-07-04',
      '2027-08-02',
      '2027-09-01',
      '2027-09-30',
      '2027-10-29',
      '2027-11-28',
      '2027-12-28',
    ],
  },
  {
    year: 2028,
    leapMonth: 5,
    starts: [
      '2028-01-26',
      '2028-02-25',
      '2028-03-26',
      '2028-04-25',
      '2028-05-24',
      '2028-06-23',
      '2028-07-22',
      '2028-08-20',
      '2028-09-19',
      '2028-10-18',
      '2028-11-16',
      '2028-12-16',
      '2029-01-15',
    ],
  },
  {
    year: 2029,
    leapMonth: null,
    starts: [
      '2029-02-13',
      '2029-03-15',
      '2029-04-14',
      '2029-05-13',
      '2029-06-12',
      '2029-07-11',
      '2029-08-10',
      '2029-09-08',
      '2029-10-08',
      '2029-11-06',
      '2029-12-05',
      '2030-01-04',
    ],
  },
  {
    year: 2030,
    leapMonth: null,
    starts: [
      '2030-02-02',
      '2030-03-04',
      '2030-04-03',
      '2030-05-02',
      '2030-06-01',
      '2030-07-01',
      '2030-07-30',
      '2030-08-29',
      '2030-09-27',
      '2030-10-27',
      '2030-11-25',
      '2030-12-25',
    ],
  },
];

/** Tết of lunar year 2031, from the same table: where month 12 of 2030 ends. */
export const TET_2031 = '2031-01-23';
