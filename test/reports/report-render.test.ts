import { describe, expect, it } from 'vitest';
import type { SummaryFigures, SummaryReport } from '../../contracts/reports.js';
import { summaryCsv } from '../../services/reports/report-csv.js';
import { escapeHtml, summaryHtml } from '../../services/reports/report-html.js';

function figures(over: Partial<SummaryFigures> = {}): SummaryFigures {
  const level = { province: 0, commune: 0, total: 0 };
  return {
    bulletins: {
      total: 2,
      byLevel: {
        normal: { ...level },
        priority: { ...level },
        emergency: { province: 1, commune: 1, total: 2 },
      },
    },
    airedS: 5_400,
    clusterAiredS: 97_200,
    deliveries: {
      targeted: 36,
      done: 35,
      heard: 35,
      deliveryPct: 97.22,
      heardPct: 97.22,
      byState: {
        scheduled: 0,
        sent: 0,
        accepted: 0,
        playing: 0,
        done: 35,
        failed: 0,
        missed: 1,
        'pre-empted': 0,
        expired: 0,
        stopped: 0,
      },
    },
    availability: {
      clusters: 18,
      uptimePct: 99.5,
      onlineS: 1,
      offlineS: 1,
      maintenanceS: 0,
      unknownS: 0,
      clustersWithOutage: 1,
    },
    faults: { failedDeliveries: 1, speakerFaultDeliveries: 0, clustersWithOutage: 1 },
    ...over,
  };
}

function report(name: string): SummaryReport {
  return {
    from: '2026-11-30T17:00:00.000Z',
    to: '2026-12-31T17:00:00.000Z',
    generatedAt: '2027-01-02T01:00:00.000Z',
    timeZone: 'Asia/Ho_Chi_Minh',
    scope: { kind: 'commune', id: 'x', name },
    total: { ...figures(), communes: 1 },
    communes: [
      { id: 'x', name, code: '=1+1', provinceId: 'phu-tho', province: 'Tỉnh Phú Thọ', ...figures() },
    ],
    failures: [{ state: 'missed', reason: 'offline', count: 1 }],
    broadcasts: {
      items: [
        {
          id: 'b-000000000001',
          name: '<img src=x onerror=alert(1)>',
          kind: 'emergency',
          level: 'emergency',
          origin: 'province',
          bulletinId: 'bt-1',
          startAt: '2026-12-07T01:00:00.000Z',
          endAt: '2026-12-07T01:01:00.000Z',
          status: 'finished',
          communes: 1,
          targeted: 18,
          done: 17,
          heard: 17,
          deliveryPct: 94.44,
          airedS: 60,
        },
      ],
      total: 2,
      limit: 1,
      offset: 0,
    },
    availabilityError: null,
  };
}

describe('the summary report as a spreadsheet and as a page to print', () => {
  it('escapes every value put in the page, and says the period and the unit in Vietnamese', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    const page = summaryHtml(report('Hướng Đạo</title><script>alert(1)</script>'), 'vi');
    expect(page).not.toMatch(/<script|<img|<\/title><script/);
    expect(page).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(page).toContain('Từ ngày 01/12/2026 đến ngày 31/12/2026');
    expect(page).toContain('&lt;/script&gt;, ngày 02 tháng 01 năm 2027');
    expect(page).toContain('1,5');
    // One bulletin of two listed: the page says where the rest are.
    expect(page).toContain('… và 1 bản tin khác (xem nhật ký phát).');
    expect(page).toContain('cụm loa mất kết nối');
  });

  it('keeps a spreadsheet from reading a name as a formula, and adds a total row', () => {
    const csv = summaryCsv(report('=HYPERLINK("http://x")'), 'vi');
    const [header, commune, total] = csv.slice(1).trim().split('\n');
    expect(header?.split(',').slice(0, 4)).toEqual(['Mã xã', 'Xã', 'Tỉnh', 'Số bản tin']);
    expect(commune?.startsWith(`'=1+1,"'=HYPERLINK(""http://x"")",Tỉnh Phú Thọ,2,`)).toBe(true);
    expect(total?.startsWith(',Tổng cộng,,2,1,1,0,0,0,0,1.5,27,36,35,35,97.22,18,99.5,1,1,0')).toBe(true);
  });
});
