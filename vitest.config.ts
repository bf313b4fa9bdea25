import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Suites open real sockets and SQLite files; two workers match the two-core target machine.
    maxWorkers: 2,
  },
});
