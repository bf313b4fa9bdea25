import { defineConfig } from 'vitest/config';

/** Kills a platform child process while 18 simulated clusters play: alone, so no other suite's load skews its timing or its load theirs. */
const CRASH_SUITES = ['test/broadcasts/crash-recovery.test.ts'];
/** Three platform processes, PostgreSQL, Redis and 2,000 simulated clusters: alone, after the crash suite. */
const PROVINCE_SUITES = ['test/platform/province-failover.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Suites open real sockets and SQLite files; two workers match the two-core target machine.
    maxWorkers: 2,
    // Removes the run's shared build of the platform (test/support/platform-build.ts) at the end.
    globalSetup: ['test/support/build-teardown.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'suites',
          include: ['test/**/*.test.ts'],
          exclude: [...CRASH_SUITES, ...PROVINCE_SUITES],
          sequence: { groupOrder: 0 },
        },
      },
      { extends: true, test: { name: 'crash', include: CRASH_SUITES, sequence: { groupOrder: 1 } } },
      { extends: true, test: { name: 'province', include: PROVINCE_SUITES, sequence: { groupOrder: 2 } } },
    ],
  },
});
