import { defineConfig } from 'vitest/config';

const FAULTS = 'test/faults.test.ts';

export default defineConfig({
  test: {
    testTimeout: 20_000,
    hookTimeout: 30_000,
    projects: [
      { extends: true, test: { name: 'redirector', include: ['src/**/*.test.ts', 'test/**/*.test.ts'], exclude: [FAULTS] } },
      // The fault suite loads, kills and starves real processes: it runs after the rest, alone on the
      // machine's cores, so the other suites' timing does not change its figures (or theirs).
      { extends: true, test: { name: 'faults', include: [FAULTS], sequence: { groupOrder: 1 } } },
    ],
  },
});
