import { defineConfig } from 'vitest/config';

// Tests spawn real worker threads, sockets and child processes; each file runs in its own fork
// so a crashed worker cannot take other files with it.
export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
