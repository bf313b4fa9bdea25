import type { SummaryFigures, SummaryReport } from '../../contracts/reports.js';
import { instantToWallTime } from '../schedules/wall-time.js';
import { clockText, hours, minuteText, numberText, periodTexts } from './report-format.js';
import { REPORT_WORDS, type ReportLanguage, type ReportWords, reasonWords } from './report-words.js';

/**
 * What the printable report may load: nothing but its own inline styles. No script runs in it, so
 * a name that got past escaping still could not act; no image, font or frame is fetched.
 */
export const REPORT_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Every value put in the page goes through this: names come from accounts and may hold markup. */
export function escapeHtml(value: string | number): string {
  return String(value).replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

const ROMAN = ['I', 'II', 'III', 'IV', 'V', 'VI'];

/** A4, portrait, black on white; tables repeat their heading on each printed page. */
const STYLE = `
@page { size: A4 portrait; margin: 18mm 15mm 18mm 20mm; }
* { box-sizing: border-box; }
body { font-family: "Times New Roman", Times, serif; font-size: 12pt; color: #000; background: #fff; margin: 0; }
main { max-width: 180mm; margin: 0 auto; padding: 8mm 0; }
.heading { display: flex; justify-content: space-between; gap: 8mm; text-align: center; }
.heading p { margin: 0; }
.unit { flex: 0 0 38%; }
.nation { flex: 1; }
.nation strong { white-space: nowrap; }
.place-date { margin-top: 3mm !important; font-style: italic; }
h1 { font-size: 14pt; text-align: center; margin: 10mm 0 2mm; }
.subtitle, .period { text-align: center; margin: 1mm 0; font-weight: bold; }
.period { font-weight: normal; font-style: italic; }
.screen-only { text-align: center; color: #555; font-size: 10pt; margin: 4mm 0; }
h2 { font-size: 12pt; margin: 7mm 0 2mm; break-after: avoid; }
table { width: 100%; border-collapse: collapse; font-size: 9.5pt; margin-bottom: 2mm; }
thead { display: table-header-group; }
tr { break-inside: avoid; }
th, td { border: 1px solid #000; padding: 1mm 1.5mm; vertical-align: top; }
th { background: #eee; text-align: center; }
td.n { text-align: right; white-space: nowrap; }
tr.total td, tr.total th { font-weight: bold; }
table.facts th { text-align: left; width: 62%; }
table.wide { font-size: 8pt; }
table.wide th, table.wide td { padding: 0.8mm 1mm; }
.note { font-size: 9.5pt; font-style: italic; margin: 1mm 0; }
.definitions { font-size: 9.5pt; margin-top: 6mm; }
.definitions ul { margin: 1mm 0; padding-left: 5mm; }
.signatures { display: flex; justify-content: space-between; margin-top: 10mm; text-align: center; break-inside: avoid; }
.signatures div { flex: 0 0 45%; min-height: 35mm; }
.signatures p { margin: 0; }
@media print { .screen-only { display: none; } main { padding: 0; max-width: none; } }
`;

/** One numbered part of the report. */
type Section = (report: SummaryReport, ctx: Context, number: string) => string;

interface Context {
  words: ReportWords;
  language: ReportLanguage;
  num: (value: number | null, digits?: number) => string;
}

/**
 * The report a commune prints, signs and stamps (Circular 39: the station reports to the level
 * above): a self-contained A4 page in the layout of an administrative report, every value escaped.
 */
export function summaryHtml(report: SummaryReport, language: ReportLanguage): string {
  const words = REPORT_WORDS[language];
  const ctx: Context = { words, language, num: (value, digits) => numberText(value, language, digits) };
  const zone = report.timeZone;
  const period = periodTexts(Date.parse(report.from), Date.parse(report.to), zone);
  const made = instantToWallTime(Date.parse(report.generatedAt), zone);
  const pad = (n: number) => String(n).padStart(2, '0');
  const { scope } = report;
  const unit =
    scope.kind === 'commune' ? words.communeUnit(scope.name) : scope.kind === 'province' ? scope.name : null;
  const place = scope.kind === 'all' || scope.kind === 'communes' ? null : placeName(scope.name);

  // Numbered in order, as an administrative report's parts are; a single commune has no per-commune table.
  const sections: Section[] = [totalsSection, levelsSection];
  if (report.communes.length > 1) sections.push(communesSection);
  sections.push(broadcastsSection);
  if (report.failures.length > 0) sections.push(failuresSection);
  const titled = sections.map((section, i) => section(report, ctx, ROMAN[i] ?? String(i + 1)));

  return `<!doctype html>
<html lang="${language}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(`${words.title} - ${scope.name}`)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<header class="heading">
  <div class="unit">
    ${unit ? `<p>${escapeHtml(words.people)}</p><p><strong>${escapeHtml(unit.toLocaleUpperCase('vi'))}</strong></p>` : `<p><strong>${escapeHtml(scope.name.toLocaleUpperCase('vi'))}</strong></p>`}
  </div>
  <div class="nation">
    <p><strong>${escapeHtml(words.nation)}</strong></p>
    <p><strong>${escapeHtml(words.motto)}</strong></p>
    <p class="place-date">${escapeHtml(words.placeDate(place, pad(made.d), pad(made.m), String(made.y)))}</p>
  </div>
</header>
<h1>${escapeHtml(words.title)}</h1>
<p class="subtitle">${escapeHtml(unit ?? scope.name)}</p>
<p class="period">${escapeHtml(words.period(period.from, period.to))}</p>
<p class="screen-only">${escapeHtml(words.printHint)} ${escapeHtml(words.generated(minuteText(made)))}</p>
${report.availabilityError ? `<p class="note">${escapeHtml(words.noHistory(report.availabilityError))}</p>` : ''}
${titled.join('\n')}
<section class="definitions">
  <h2>${escapeHtml(words.sections.definitions)}</h2>
  <ul>${words.definitions.map((d) => `<li>${escapeHtml(d)}</li>`).join('')}</ul>
</section>
<footer class="signatures">
  <div><p><strong>${escapeHtml(words.preparer)}</strong></p><p><em>${escapeHtml(words.preparerHint)}</em></p></div>
  <div><p><strong>${escapeHtml(scope.kind === 'commune' ? words.signer.commune : words.signer.other)}</strong></p><p><em>${escapeHtml(words.signHint)}</em></p></div>
</footer>
</main>
</body>
</html>
`;
}

/** The place on the date line: the commune's or province's name without its unit word. */
function placeName(name: string): string {
  return name.replace(/^(xã|phường|đặc khu|thị trấn|tỉnh|thành phố)\s+/i, '');
}

const cell = (value: string | number) => `<td>${escapeHtml(value)}</td>`;
const numberCell = (text: string) => `<td class="n">${escapeHtml(text)}</td>`;
const head = (labels: string[]) =>
  `<thead><tr>${labels.map((l) => `<th scope="col">${escapeHtml(l)}</th>`).join('')}</tr></thead>`;

function totalsSection(report: SummaryReport, { words, num }: Context, n: string): string {
  const t = report.total;
  const h = words.headers;
  const facts: [string, string][] = [
    // A commune's own report needs no count of communes.
    ...(report.scope.kind === 'commune'
      ? []
      : ([[words.communeCount, num(t.communes)]] as [string, string][])),
    [h.bulletins, num(t.bulletins.total)],
    [h.airedH, num(hours(t.airedS))],
    [h.clusterAiredH, num(hours(t.clusterAiredS))],
    [h.targeted, num(t.deliveries.targeted)],
    [h.done, num(t.deliveries.done)],
    [h.heard, num(t.deliveries.heard)],
    [h.deliveryPct, num(t.deliveries.deliveryPct)],
    [h.clusters, num(t.availability?.clusters ?? null)],
    [h.uptimePct, num(t.availability?.uptimePct ?? null)],
    [h.offlineH, num(t.availability ? hours(t.availability.offlineS) : null)],
    [h.maintenanceH, num(t.availability ? hours(t.availability.maintenanceS) : null)],
    [h.clustersWithOutage, num(t.faults.clustersWithOutage)],
    [h.failedDeliveries, num(t.faults.failedDeliveries)],
    [h.speakerFaultDeliveries, num(t.faults.speakerFaultDeliveries)],
  ];
  return `<section><h2>${n}. ${escapeHtml(words.sections.totals)}</h2>
<table class="facts"><tbody>${facts
    .map(([label, value]) => `<tr><th scope="row">${escapeHtml(label)}</th>${numberCell(value)}</tr>`)
    .join('')}</tbody></table></section>`;
}

function levelsSection(report: SummaryReport, { words, num }: Context, n: string): string {
  const total = report.total;
  const levels = ['emergency', 'priority', 'normal'] as const;
  const rows = levels
    .map((level) => {
      const row = total.bulletins.byLevel[level];
      return `<tr><th scope="row">${escapeHtml(words.level[level])}</th>${numberCell(num(row.province))}${numberCell(
        num(row.commune),
      )}${numberCell(num(row.total))}</tr>`;
    })
    .join('');
  const sum = (origin: 'province' | 'commune') =>
    levels.reduce((count, level) => count + total.bulletins.byLevel[level][origin], 0);
  return `<section><h2>${n}. ${escapeHtml(words.sections.levels)}</h2>
<table>${head([words.broadcastColumns.level, words.origin.province, words.origin.commune, words.total])}
<tbody>${rows}<tr class="total"><th scope="row">${escapeHtml(words.total)}</th>${numberCell(num(sum('province')))}${numberCell(
    num(sum('commune')),
  )}${numberCell(num(total.bulletins.total))}</tr></tbody></table></section>`;
}

function communesSection(report: SummaryReport, { words, num }: Context, n: string): string {
  const h = words.headers;
  const line = (name: string, f: SummaryFigures, total = false) => {
    const { byLevel } = f.bulletins;
    return `<tr${total ? ' class="total"' : ''}><th scope="row">${escapeHtml(name)}</th>${[
      num(f.bulletins.total),
      num(byLevel.emergency.total),
      num(byLevel.priority.total),
      num(byLevel.normal.total),
      num(byLevel.emergency.province + byLevel.priority.province + byLevel.normal.province),
      num(hours(f.airedS)),
      num(f.deliveries.targeted),
      num(f.deliveries.done),
      num(f.deliveries.deliveryPct),
      num(f.availability?.clusters ?? null),
      num(f.availability?.uptimePct ?? null),
      num(f.availability ? hours(f.availability.maintenanceS) : null),
      num(f.faults.failedDeliveries),
      num(f.faults.speakerFaultDeliveries),
    ]
      .map(numberCell)
      .join('')}</tr>`;
  };
  return `<section><h2>${n}. ${escapeHtml(words.sections.communes)}</h2>
<table class="wide">${head([
    h.commune,
    h.bulletins,
    words.level.emergency,
    words.level.priority,
    words.level.normal,
    words.origin.province,
    h.airedH,
    h.targeted,
    h.done,
    h.deliveryPct,
    h.clusters,
    h.uptimePct,
    h.maintenanceH,
    h.failedDeliveries,
    h.speakerFaultDeliveries,
  ])}
<tbody>${report.communes.map((c) => line(c.name, c)).join('')}${line(words.total, report.total, true)}</tbody></table>
<p class="note">${escapeHtml(words.totalNote)}</p></section>`;
}

function broadcastsSection(report: SummaryReport, { words, num }: Context, n: string): string {
  const c = words.broadcastColumns;
  const title = `<h2>${n}. ${escapeHtml(words.sections.broadcasts)}</h2>`;
  if (report.broadcasts.total === 0)
    return `<section>${title}<p>${escapeHtml(words.noBroadcasts)}</p></section>`;
  const zone = report.timeZone;
  const several = report.communes.length > 1;
  const rows = report.broadcasts.items
    .map(
      (b) =>
        `<tr>${cell(minuteText(instantToWallTime(Date.parse(b.startAt), zone)))}${cell(b.name)}${cell(
          words.level[b.level],
        )}${cell(words.origin[b.origin])}${several ? numberCell(num(b.communes)) : ''}${[
          num(b.targeted),
          num(b.done),
          num(b.heard),
          num(b.deliveryPct),
          clockText(b.airedS),
        ]
          .map(numberCell)
          .join('')}</tr>`,
    )
    .join('');
  const more = report.broadcasts.total - report.broadcasts.offset - report.broadcasts.items.length;
  return `<section>${title}
<table>${head([
    c.start,
    c.name,
    c.level,
    c.origin,
    ...(several ? [c.communes] : []),
    c.targeted,
    c.done,
    c.heard,
    c.rate,
    c.aired,
  ])}<tbody>${rows}</tbody></table>
${more > 0 ? `<p class="note">${escapeHtml(words.moreBroadcasts(more))}</p>` : ''}</section>`;
}

function failuresSection(report: SummaryReport, { words, num }: Context, n: string): string {
  const f = words.failureColumns;
  return `<section><h2>${n}. ${escapeHtml(words.sections.failures)}</h2>
<table>${head([f.state, f.reason, f.count])}<tbody>${report.failures
    .map(
      (r) =>
        `<tr>${cell(words.state[r.state])}${cell(reasonWords(words, r.reason))}${numberCell(num(r.count))}</tr>`,
    )
    .join('')}</tbody></table></section>`;
}
