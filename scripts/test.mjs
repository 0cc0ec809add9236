#!/usr/bin/env node
/**
 * `npm test`'s vitest step. The vitest projects that run one file at a time (integration on the shared broker, and
 * cli, whose cluster files start brokers of their own) would otherwise run one after the other: the cli project runs
 * here in a second vitest process next to unit + integration. Its output is kept and printed when it ends, so the
 * two reports do not interleave. Exits non-zero when either run fails.
 *
 *   node scripts/test.mjs                 # unit + integration, and cli next to them
 *   KAFKATUNE_TEST_SERIAL=1 node scripts/test.mjs   # one vitest run of every project, one file at a time
 */
import { spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs')

/** @type {Set<import('node:child_process').ChildProcess>} */
const children = new Set()

function run(name, args, { buffered }) {
  const started = Date.now()
  const child = spawn(process.execPath, [vitest, 'run', ...args], { cwd: root, stdio: ['ignore', buffered ? 'pipe' : 'inherit', buffered ? 'pipe' : 'inherit'] })
  children.add(child)
  const chunks = []
  if (buffered) {
    child.stdout.on('data', (d) => chunks.push(d))
    child.stderr.on('data', (d) => chunks.push(d))
  }
  return new Promise((resolve) => {
    child.on('error', (err) => chunks.push(Buffer.from(`${name}: ${err.message}\n`)))
    child.on('close', (code, signal) => {
      children.delete(child)
      resolve({ name, ok: code === 0, code, signal, output: Buffer.concat(chunks).toString(), seconds: (Date.now() - started) / 1000 })
    })
  })
}

// Stop both runs (and, through their own teardown, the brokers they started) when we are stopped.
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    for (const child of children) child.kill(sig)
  })
}

const runs =
  process.env.KAFKATUNE_TEST_SERIAL === '1'
    ? [run('all projects', [], { buffered: false })]
    : [run('unit + integration', ['--project', 'unit', '--project', 'integration'], { buffered: false }), run('cli', ['--project', 'cli'], { buffered: true })]

const results = await Promise.all(runs)
for (const r of results) {
  if (r.output !== '') process.stdout.write(`\n[test] --- output of the ${r.name} run ---\n${r.output}`)
}
for (const r of results) {
  console.log(`[test] ${r.name}: ${r.ok ? 'passed' : `FAILED (${r.signal ?? `exit ${r.code}`})`} in ${r.seconds.toFixed(0)} s`)
}
process.exit(results.every((r) => r.ok) ? 0 : 1)
