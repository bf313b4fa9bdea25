import { existsSync } from 'node:fs';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Browser suites drive Debian's Chromium. Locally they are skipped with this reason when it is
 * missing; in CI (CI set) a missing browser fails the run instead of silently skipping.
 */
export function chromiumSkipReason(): string | null {
  if (existsSync(CHROMIUM)) return null;
  const reason = `${CHROMIUM} not found (apt-get install chromium)`;
  if (process.env.CI) throw new Error(`browser tests need Chromium in CI: ${reason}`);
  return reason;
}

/** The flags a sandboxed, offline machine needs: no background calls to Google's services. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
