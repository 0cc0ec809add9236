#!/usr/bin/env node
/**
 * Runs the unit and type tests and a small integration subset on each supported Node line (22, 24, 26 by
 * default) besides the Node that runs this script.
 *
 * Node binaries come from the npm registry: the `node` package only picks a platform package
 * (`node-<platform>-<arch>`, whose tarball holds `bin/node`) through an install script, which npm 11 skips, so the
 * platform package is fetched directly with `npm pack` and `bin/node` unpacked into ~/.cache/kafkatune/node/<version>.
 * A cached binary is reused; the newest release of each line is looked up once per run (the cache is used as
 * it is when the registry cannot be reached).
 *
 *   node scripts/node-matrix.mjs            # 22, 24, 26
 *   node scripts/node-matrix.mjs 24         # one line
 *   KAFKATUNE_NODE_MATRIX_UNIT=0 ...        # integration subset only
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs'
import { homedir, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const cacheDir = process.env.KAFKATUNE_NODE_CACHE ?? join(homedir(), '.cache', 'kafkatune', 'node')
const majors = process.argv.slice(2).length > 0 ? process.argv.slice(2).map(Number) : [22, 24, 26]
const platformPackage = `node-${process.platform}-${process.arch}`
/** Small and fast: producer, consumer, pipeline and the harness (secured listeners, a TLS client) on each Node. */
const INTEGRATION_SUBSET = ['test/integration/runtime.test.ts']

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'

function compare(a, b) {
  const pa = a.split('.').map(Number)
  const pb = b.split('.').map(Number)
  for (let i = 0; i < 3; i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0)
  return 0
}

function cachedVersions(major) {
  if (!existsSync(cacheDir)) return []
  return readdirSync(cacheDir)
    .filter((v) => v.startsWith(`${major}.`) && existsSync(join(cacheDir, v, 'bin', 'node')))
    .sort(compare)
}

/** The newest published version of a Node line, or undefined when the registry does not answer. */
function newestVersion(major) {
  try {
    const out = execFileSync(npm, ['view', `${platformPackage}@${major}`, 'version', '--json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 })
    const parsed = JSON.parse(out)
    const list = (Array.isArray(parsed) ? parsed : [parsed]).filter((v) => typeof v === 'string' && /^\d+\.\d+\.\d+$/.test(v))
    return list.sort(compare).at(-1)
  } catch {
    return undefined
  }
}

/** Path of a working `node` of this line, installing it from the registry when needed. */
function nodeBinary(major) {
  const wanted = newestVersion(major) ?? cachedVersions(major).at(-1)
  if (wanted === undefined) throw new Error(`no Node ${major}: the registry did not answer and nothing is cached in ${cacheDir}`)
  const dir = join(cacheDir, wanted)
  const bin = join(dir, 'bin', 'node')
  if (!existsSync(bin)) {
    const scratch = mkdtempSync(join(tmpdir(), 'kafkatune-node-'))
    try {
      const started = Date.now()
      const packed = JSON.parse(execFileSync(npm, ['pack', `${platformPackage}@${wanted}`, '--json', '--pack-destination', scratch], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }))
      const tarball = join(scratch, packed[0].filename)
      const unpacked = join(scratch, 'unpacked')
      mkdirSync(join(unpacked, 'bin'), { recursive: true })
      execFileSync('tar', ['xzf', tarball, '-C', unpacked, '--strip-components=1', 'package/bin/node'])
      mkdirSync(cacheDir, { recursive: true })
      rmSync(dir, { recursive: true, force: true })
      renameSync(unpacked, dir)
      console.log(`[node-matrix] installed Node ${wanted} (${platformPackage}) in ${((Date.now() - started) / 1000).toFixed(1)} s`)
    } finally {
      rmSync(scratch, { recursive: true, force: true })
    }
  }
  const version = execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim()
  if (version !== `v${wanted}`) throw new Error(`${bin} reports ${version}, expected v${wanted}`)
  return { bin, version }
}

function run(bin, args, env) {
  const started = Date.now()
  const result = spawnSync(bin, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } })
  return { ok: result.status === 0, seconds: (Date.now() - started) / 1000 }
}

const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs')
const summary = []
let failed = false
for (const major of majors) {
  if (!Number.isInteger(major) || major < 18) throw new Error(`not a Node major version: ${major}`)
  const { bin, version } = nodeBinary(major)
  console.log(`\n[node-matrix] === Node ${version} ===`)
  // Local brokers: quick to start, and the same on every machine (no container runtime needed).
  const env = { KAFKATUNE_KAFKA_MODE: 'local', PATH: `${dirname(bin)}:${process.env.PATH ?? ''}` }
  const steps = []
  if (process.env.KAFKATUNE_NODE_MATRIX_UNIT !== '0') steps.push(['unit + type tests', [vitest, 'run', '--project', 'unit']])
  steps.push(['integration subset', [vitest, 'run', '--project', 'integration', ...INTEGRATION_SUBSET]])
  for (const [name, args] of steps) {
    const r = run(bin, args, env)
    summary.push(`Node ${version}: ${name} ${r.ok ? 'passed' : 'FAILED'} in ${r.seconds.toFixed(0)} s`)
    if (!r.ok) failed = true
  }
}
console.log(`\n[node-matrix] ${summary.join('\n[node-matrix] ')}`)
process.exit(failed ? 1 : 0)
