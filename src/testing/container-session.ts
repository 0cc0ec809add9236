/**
 * One container-mode cluster is a session: every container and network it starts carries the session's label, so
 * `stop()`, a failed start and a reaper process (for a test process that dies) remove exactly that session.
 */
import { spawn } from 'node:child_process'
import type { DockerContainer, RuntimeClient } from './container-runtime.js'

/** Every container and network kafkatune starts carries these labels (`scripts/podman-setup.sh` removes leftovers by the first). */
export const LABEL_MANAGED = 'dev.kafkatune.managed'
export const LABEL_SESSION = 'dev.kafkatune.session'

/**
 * A small detached Node process that removes this session's containers and network once the test process is
 * gone, however it ended (Ryuk is often unavailable, e.g. on Podman without registry access). `stop()` ends it by pid.
 */
const REAPER_SOURCE = `
const http = require('node:http')
const [ppid, label, target] = [Number(process.argv[1]), process.argv[2], JSON.parse(process.argv[3])]
function call(method, path) {
  return new Promise((resolve) => {
    const req = http.request({ ...target, method, path, timeout: 15000 }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c) => (body += c))
      res.on('end', () => resolve(body))
    })
    req.on('error', () => resolve(''))
    req.on('timeout', () => req.destroy())
    req.end()
  })
}
async function reap() {
  const filters = encodeURIComponent(JSON.stringify({ label: [label] }))
  let containers = []
  try { containers = JSON.parse(await call('GET', '/containers/json?all=1&filters=' + filters)) } catch {}
  await Promise.all(containers.map((c) => call('DELETE', '/containers/' + c.Id + '?force=1&v=1')))
  let networks = []
  try { networks = JSON.parse(await call('GET', '/networks?filters=' + filters)) } catch {}
  await Promise.all(networks.map((n) => call('DELETE', '/networks/' + n.Id)))
}
setInterval(() => {
  try { process.kill(ppid, 0) } catch { reap().finally(() => process.exit(0)) }
}, 1000)
`

export interface Reaper {
  stop(): void
}

/** Start the reaper when the runtime is reachable over a unix socket or plain HTTP (TLS engines have Ryuk). */
export function startReaper(client: RuntimeClient, session: string): Reaper {
  const modem = ((client.container.dockerode as unknown as { modem?: Record<string, unknown> }).modem ?? {})
  let target: Record<string, unknown> | undefined
  if (typeof modem.socketPath === 'string') target = { socketPath: modem.socketPath }
  else if (modem.protocol === 'http' && typeof modem.host === 'string') target = { host: modem.host, port: modem.port }
  if (target === undefined) return { stop: () => undefined }
  const child = spawn(process.execPath, ['-e', REAPER_SOURCE, String(process.pid), `${LABEL_SESSION}=${session}`, JSON.stringify(target)], {
    detached: true,
    stdio: 'ignore',
  })
  child.on('error', () => undefined)
  child.unref()
  return {
    stop: () => {
      if (child.pid !== undefined && child.exitCode === null) {
        try {
          process.kill(child.pid, 'SIGKILL')
        } catch {
          // Already gone.
        }
      }
    },
  }
}

/** Remove every container and network of one session (force, volumes too); errors are collected, not thrown. */
export async function removeSession(client: RuntimeClient, session: string): Promise<void> {
  const dockerode = client.container.dockerode
  const filters = { label: [`${LABEL_SESSION}=${session}`] }
  const containers = await dockerode.listContainers({ all: true, filters }).catch(() => [])
  await Promise.all(containers.map((c) => dockerode.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined)))
  const networks = await dockerode.listNetworks({ filters }).catch(() => [])
  await Promise.all(networks.map((n) => dockerode.getNetwork(n.Id).remove().catch(() => undefined)))
}

/** The last log lines of every container of a session, for error messages. */
export async function sessionLogs(client: RuntimeClient, session: string): Promise<string> {
  const dockerode = client.container.dockerode
  const containers = await dockerode.listContainers({ all: true, filters: { label: [`${LABEL_SESSION}=${session}`] } }).catch(() => [])
  const parts = await Promise.all(
    containers.map(async (c) => `--- ${c.Names[0] ?? c.Id} (${c.State}):\n${lastLines(await containerLog(client.container.getById(c.Id)), 25)}`),
  )
  return parts.join('\n')
}

export async function containerLog(container: DockerContainer): Promise<string> {
  try {
    const raw: unknown = await container.logs({ stdout: true, stderr: true, follow: false })
    return Buffer.isBuffer(raw) ? raw.toString('utf8') : String(raw)
  } catch {
    return ''
  }
}

export function lastLines(log: string, n = 40): string {
  // Docker's multiplexed log frames carry 8 binary header bytes; drop what is not printable.
  return log
    .replace(/[\u0000-\u0008\u000e-\u001f]/g, '')
    .split('\n')
    .slice(-n)
    .join('\n')
}
