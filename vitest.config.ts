import { availableParallelism } from 'node:os'
import { defineConfig } from 'vitest/config'

// Three projects: fast pure tests, integration tests that share one real broker, and the built command (test/cli).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/integration/**', 'test/testing/**', 'test/cli/**'],
          // Property tests (fast-check, hundreds of runs) take 2-4 s alone and twice that on 2 loaded cores (CI runs
          // the unit project on three Node lines next to a broker): 5 s, vitest's default, failed them for load alone.
          testTimeout: 30_000,
          // vitest's default is one worker less than the CPUs: one worker on a 2-CPU machine, which leaves a CPU idle
          // (the unit project took 100 s there with one worker, 58-63 s with two).
          maxWorkers: Math.max(2, availableParallelism() - 1),
          typecheck: { enabled: true, include: ['test/types/**/*.test-d.ts'] },
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/testing/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 240_000,
          fileParallelism: false,
          globalSetup: ['test/integration/global-setup.ts'],
        },
      },
      {
        // The built `kafkatune` command run as a child process; files with a cluster start their own broker.
        test: {
          name: 'cli',
          include: ['test/cli/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 240_000,
          fileParallelism: false,
        },
      },
    ],
  },
})
