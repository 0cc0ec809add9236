/**
 * A class-data-sharing archive that makes every later local broker start 1-4 s faster, built once per jar cache
 * and Java by one training start.
 */
import { createHash } from 'node:crypto'
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { brokerPlan } from './broker-plan.js'
import { removeScratchDir, trackScratchDir } from './children.js'
import { javaVersion } from './jars.js'
import { freePorts, LOOPBACK, newClusterId } from './lifecycle.js'
import { LocalNode, prepareNode } from './local-node.js'

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/**
 * A class-data-sharing archive of the broker's classes (JDK 13+ dynamic AppCDS), built once per cache and Java
 * by one training start; later JVMs map it instead of loading ~5,000 classes (about 1-4 s less per start here).
 * Returns undefined (start without it) while another process builds it, after a failed build, or when
 * KAFKATUNE_KAFKA_CDS=0.
 */
export async function ensureClassArchive(libs: string, timeoutMs: number): Promise<string | undefined> {
  if (process.env.KAFKATUNE_KAFKA_CDS === '0') return undefined
  const tag = createHash('sha256').update(javaVersion()).update(libs).digest('hex').slice(0, 12)
  const archive = join(dirname(libs), `broker-${tag}.jsa`)
  if (existsSync(archive)) return archive
  // Two failed builds and we stop trying (delete the .failed file to try again).
  const failedFile = `${archive}.failed`
  const failures = existsSync(failedFile) ? Number(readFileSync(failedFile, 'utf8').split('\n')[0]) || 1 : 0
  if (failures >= 2) return undefined
  const lock = `${archive}.lock`
  try {
    closeSync(openSync(lock, 'wx'))
    writeFileSync(lock, String(process.pid))
  } catch {
    const holder = Number(readFileSync(lock, 'utf8'))
    if (Number.isInteger(holder) && holder > 0 && pidAlive(holder)) return undefined
    // A stale lock from a process that died mid-build: take it over.
    writeFileSync(lock, String(process.pid))
  }
  const started = Date.now()
  process.stderr.write('kafkatune: building a class-data archive so later broker starts are faster (once)...\n')
  const tmp = `${archive}.tmp-${process.pid}`
  const root = mkdtempSync(join(tmpdir(), 'kafkatune-cds-'))
  trackScratchDir(root)
  try {
    const [plaintext = 0, controller = 0] = await freePorts(2)
    const plan = brokerPlan({ nodeCount: 1, nodeId: 1, clusterId: newClusterId(), network: { kind: 'local', host: LOOPBACK, nodes: [{ plaintext, controller, secure: [] }] }, logDir: join(root, 'node-1', 'data') })
    const propsFile = await prepareNode(libs, join(root, 'node-1'), plan)
    const node = new LocalNode(1, `${LOOPBACK}:${plaintext}`, libs, propsFile, timeoutMs, [`-XX:ArchiveClassesAtExit=${tmp}`])
    try {
      await node.start()
    } finally {
      // The archive is written while the JVM exits normally, so SIGTERM (graceful), not SIGKILL, and a long
      // grace: shutting down and writing ~50 MB of class data takes a while on a busy machine.
      await node.terminate(timeoutMs)
    }
    if (!existsSync(tmp) || statSync(tmp).size === 0) throw new Error('the JVM wrote no archive')
    renameSync(tmp, archive)
    process.stderr.write(`kafkatune: class-data archive ready in ${((Date.now() - started) / 1000).toFixed(1)} s\n`)
    return archive
  } catch (err) {
    writeFileSync(failedFile, `${failures + 1}\n${err instanceof Error ? err.message : String(err)}\n`)
    process.stderr.write(`kafkatune: no class-data archive (${err instanceof Error ? err.message.split('\n')[0] : String(err)}); brokers start without it\n`)
    return undefined
  } finally {
    rmSync(tmp, { force: true })
    removeScratchDir(root)
    try {
      unlinkSync(lock)
    } catch {
      // already gone
    }
  }
}
