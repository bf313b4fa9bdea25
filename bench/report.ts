import { appendFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';

export interface BenchResult {
  scenario: string;
  title: string;
  summary: Record<string, number | string>;
  columns: string[];
  rows: Record<string, number | string>[];
}

export function percentile(samples: readonly number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)] ?? Number.NaN;
}

export function machine(): string {
  const cpu = cpus();
  return `${cpu[0]?.model ?? 'unknown CPU'} × ${cpu.length}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
}

const round = (v: number | string) => (typeof v === 'number' ? Math.round(v * 10) / 10 : v);

/** Prints a result, saves it as JSON, and appends a Markdown table to bench/RESULTS.md. */
export function report(dir: string, result: BenchResult): void {
  const date = new Date().toISOString();
  const lines = [
    `### ${result.title}`,
    '',
    `${date.slice(0, 10)} · ${machine()}`,
    '',
    Object.entries(result.summary)
      .map(([k, v]) => `${k}: ${round(v)}`)
      .join(' · '),
    '',
    `| ${result.columns.join(' | ')} |`,
    `| ${result.columns.map(() => '---').join(' | ')} |`,
    ...result.rows.map((row) => `| ${result.columns.map((c) => round(row[c] ?? '')).join(' | ')} |`),
    '',
  ];
  const markdown = `${lines.join('\n')}\n`;
  process.stdout.write(markdown);
  mkdirSync(join(dir, 'results'), { recursive: true });
  writeFileSync(
    join(dir, 'results', `${result.scenario}-${date.replace(/[:.]/g, '-')}.json`),
    `${JSON.stringify({ date, machine: machine(), ...result }, null, 2)}\n`,
  );
  const resultsFile = join(dir, 'RESULTS.md');
  if (!existsSync(resultsFile)) {
    writeFileSync(resultsFile, '# Benchmark results\n\nAppended by `npm run bench`; newest last.\n\n');
  }
  appendFileSync(resultsFile, markdown);
}
