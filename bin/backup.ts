import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { backupDatabase, DATABASE_FILE } from '../services/storage/backup.js';

const USAGE = `Usage: npm run backup -- --out <file>

Writes a consistent copy of DATA_DIR/${DATABASE_FILE} (DATA_DIR from the environment, default
./data) to <file>, readable by its owner only, using SQLite's online backup API: the platform may
be running. The copy is checked with quick_check before it replaces <file>. Restoring: docs/backup.md.`;

async function main(argv: string[]): Promise<number> {
  let values: { out?: string | undefined; help?: boolean | undefined };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { out: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (!values.out) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const dataDir = process.env.DATA_DIR || './data';
  try {
    const result = await backupDatabase(dataDir, values.out);
    process.stdout.write(
      `Backed up ${join(dataDir, DATABASE_FILE)} to ${result.path} (${result.bytes} bytes)\n`,
    );
    return 0;
  } catch (error) {
    process.stderr.write(`Backup failed: ${(error as Error).message}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`Backup failed: ${(error as Error).message}\n`);
    process.exitCode = 1;
  },
);
