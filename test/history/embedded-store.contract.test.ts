import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll } from 'vitest';
import { EmbeddedTelemetryStore } from '../../services/history/embedded-store.js';
import { describeTelemetryContract } from './history-contract.js';

const dir = mkdtempSync(join(tmpdir(), 'history-contract-'));
let opened = 0;

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeTelemetryContract({
  label: 'embedded SQLite',
  async open({ clock }) {
    const store = new EmbeddedTelemetryStore({
      file: join(dir, `history-${++opened}.sqlite`),
      clock,
      logger: pino({ level: 'silent' }),
    });
    await store.start();
    return store;
  },
});
