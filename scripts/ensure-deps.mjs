// Runs before `npm run demo`, `npm start` and `npm test`: installs the dependencies with `npm ci`
// when they are missing or older than package-lock.json, so the README's two commands work on a
// fresh clone without repeating a full install every time. Plain Node: nothing is installed yet.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';

const installed = 'node_modules/.package-lock.json';
const stale = !existsSync(installed) || statSync(installed).mtimeMs < statSync('package-lock.json').mtimeMs;
if (stale) {
  process.stderr.write(
    'Installing dependencies (npm ci); this happens once per change of package-lock.json.\n',
  );
  const result = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { stdio: 'inherit' });
  process.exit(result.status ?? 1);
}
