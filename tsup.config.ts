import { defineConfig } from 'tsup'

const common = {
  entry: { index: 'src/index.ts', testing: 'src/testing/index.ts' },
  dts: true,
  sourcemap: true,
  target: 'node20' as const,
  splitting: false,
  shims: true,
}

export default defineConfig([
  { ...common, format: ['esm'], clean: true },
  // p-queue is ESM-only: the CommonJS build carries its own copy, so require() needs no require(esm) support.
  { ...common, format: ['cjs'], noExternal: ['p-queue', 'eventemitter3', 'p-timeout'] },
  {
    // The `kafkatune` command (package.json `bin`): ESM only, no types; the shebang comes from src/cli/main.ts.
    entry: { cli: 'src/cli/main.ts' },
    format: ['esm'],
    dts: false,
    sourcemap: true,
    clean: false,
    target: 'node20',
    splitting: false,
  },
])
