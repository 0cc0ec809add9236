#!/usr/bin/env node
// Runs a TypeScript example: bundles it with esbuild (npm packages stay external), then runs it with
// Node, passing signals and the exit code through. Usage: npm run example -- examples/serializer-json.ts
import { spawn } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { basename, join, resolve } from 'node:path'
import { build } from 'esbuild'

const entry = process.argv[2]
if (!entry) {
  console.error('usage: npm run example -- examples/<name>.ts')
  process.exit(2)
}
let script = resolve(entry)
if (entry.endsWith('.ts')) {
  // Outside node_modules, so the bundle resolves 'kafkatune' to this package itself (package self-reference).
  const dir = join(process.cwd(), '.kafkatune', 'examples')
  mkdirSync(dir, { recursive: true })
  script = join(dir, basename(entry).replace(/\.ts$/, '.mjs'))
  await build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', outfile: script, logLevel: 'warning' })
}
const child = spawn(process.execPath, [script, ...process.argv.slice(3)], { stdio: 'inherit' })
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig))
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)))
