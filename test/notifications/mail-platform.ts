import { afterEach } from 'vitest';
import type { Config } from '../../services/config.js';
import type { SimulatedFleet } from '../../simulators/speaker-cluster/fleet.js';
import type { ManualClock } from '../support/manual-clock.js';
import { startTestPlatform, type TestPlatform } from '../support/platform-harness.js';
import { startFleet } from '../support/simulated-fleet.js';
import { type SmtpSink, startSmtpSink } from './smtp-sink.js';

export interface MailPlatform {
  /** A Hướng Đạo platform on the clock given, sending e-mail through `smtp`. */
  start(clock: ManualClock, config?: Partial<Config>): Promise<{ t: TestPlatform; smtp: SmtpSink }>;
  /** Connects simulated clusters to the platform started last. */
  startFleet(ids: string[], options: Parameters<typeof startFleet>[2]): Promise<SimulatedFleet>;
}

/**
 * Each test's platform, its real SMTP server (accepting `account`) and its simulated clusters,
 * stopped after the test: the clusters first, then the platform, then the SMTP server.
 */
export function mailPlatformEachTest(account: { user: string; pass: string }): MailPlatform {
  let t: TestPlatform | undefined;
  let fleet: SimulatedFleet | undefined;
  let smtp: SmtpSink | undefined;
  afterEach(async () => {
    await fleet?.stop();
    fleet = undefined;
    await t?.close();
    t = undefined;
    await smtp?.close();
    smtp = undefined;
  });
  return {
    async start(clock, config = {}) {
      const sink = await startSmtpSink(account);
      smtp = sink;
      const platform = await startTestPlatform({
        clock,
        config: {
          SEED_PRESET: 'huong-dao',
          SMTP_URL: `smtp://${account.user}:${account.pass}@127.0.0.1:${sink.port}`,
          SMTP_FROM: 'Đài truyền thanh Hướng Đạo <loa@huong-dao.test>',
          ...config,
        },
      });
      t = platform;
      return { t: platform, smtp: sink };
    },
    async startFleet(ids, options) {
      if (!t) throw new Error('start the platform first');
      fleet = await startFleet(t, ids, options);
      return fleet;
    },
  };
}
