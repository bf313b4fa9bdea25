import { stringify } from 'csv-stringify/sync';
import type { SummaryFigures, SummaryReport } from '../../contracts/reports.js';
import { hours } from './report-format.js';
import { CSV_COLUMNS, type CsvColumn, REPORT_WORDS, type ReportLanguage } from './report-words.js';

type Row = Record<CsvColumn, string | number>;

/**
 * A name a spreadsheet must show as text, never run as a formula (OWASP, CSV injection): a leading
 * =, +, -, @, tab or carriage return gets a quote before it.
 */
const asText = (value: string) => (/^[=+\-@\t\r]/.test(value) ? `'${value}` : value);

function figuresRow(figures: SummaryFigures): Omit<Row, 'code' | 'commune' | 'province'> {
  const { byLevel } = figures.bulletins;
  const blank = (value: number | null | undefined) => value ?? '';
  return {
    bulletins: figures.bulletins.total,
    emergencyProvince: byLevel.emergency.province,
    emergencyCommune: byLevel.emergency.commune,
    priorityProvince: byLevel.priority.province,
    priorityCommune: byLevel.priority.commune,
    normalProvince: byLevel.normal.province,
    normalCommune: byLevel.normal.commune,
    airedH: hours(figures.airedS),
    clusterAiredH: hours(figures.clusterAiredS),
    targeted: figures.deliveries.targeted,
    done: figures.deliveries.done,
    heard: figures.deliveries.heard,
    deliveryPct: blank(figures.deliveries.deliveryPct),
    clusters: blank(figures.availability?.clusters),
    uptimePct: blank(figures.availability?.uptimePct),
    offlineH: figures.availability ? hours(figures.availability.offlineS) : '',
    maintenanceH: figures.availability ? hours(figures.availability.maintenanceS) : '',
    clustersWithOutage: blank(figures.faults.clustersWithOutage),
    failedDeliveries: figures.faults.failedDeliveries,
    speakerFaultDeliveries: figures.faults.speakerFaultDeliveries,
  };
}

/**
 * One row per commune and a total row, in UTF-8 with a byte-order mark (as the broadcast log's
 * CSV, so a spreadsheet opens the Vietnamese right), headers in the report's language.
 */
export function summaryCsv(report: SummaryReport, language: ReportLanguage): string {
  const words = REPORT_WORDS[language];
  const rows: Row[] = report.communes.map((c) => ({
    code: asText(c.code ?? ''),
    commune: asText(c.name),
    province: asText(c.province ?? ''),
    ...figuresRow(c),
  }));
  rows.push({ code: '', commune: words.total, province: '', ...figuresRow(report.total) });
  return `\uFEFF${stringify(rows, {
    header: true,
    columns: CSV_COLUMNS.map((key) => ({ key, header: words.headers[key] })),
  })}`;
}
