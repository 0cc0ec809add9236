/** Every example in examples/ runs to completion against the shared broker (and a real registry where needed). */
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { brokers, testKafka, waitFor } from '../helpers/kafka.js'
import { startRegistry, type RunningRegistry } from '../helpers/registry.js'

const EXAMPLES = [
  'examples/producer-low-latency.mjs',
  'examples/producer-high-throughput.mjs',
  'examples/producer-exactly-once.mjs',
  'examples/serializer-json.ts',
  'examples/serializer-avro.ts',
  'examples/serializer-schema-registry.ts',
  'examples/consumer-dead-letter.ts',
  'examples/consumer-slow-handler.ts',
]

let registry: RunningRegistry | undefined

beforeAll(async () => {
  registry = await startRegistry()
})
afterAll(async () => {
  await registry?.stop()
})

function runExample(path: string, onStart?: (child: ChildProcess, output: () => string) => void, env: Record<string, string> = {}): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['scripts/run-example.mjs', path], {
      env: { ...process.env, KAFKA_BROKERS: brokers().join(','), SCHEMA_REGISTRY_URL: registry?.url ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => (out += d.toString()))
    const timer = setTimeout(() => {
      if (child.pid) process.kill(child.pid, 'SIGKILL')
    }, 110_000)
    onStart?.(child, () => out)
    child.on('error', reject)
    child.on('exit', (code) => {
      clearTimeout(timer)
      resolve({ code, out })
    })
  })
}

describe('examples', () => {
  for (const example of EXAMPLES) {
    it(`${example} runs to completion`, async () => {
      const { code, out } = await runExample(example)
      expect(code, out.slice(-3000)).toBe(0)
    }, 120_000)
  }

  it('examples/consumer-service.ts stops gracefully on SIGTERM: commits what it processed, leaves the group, exits 0', async () => {
    let signalled = false
    const { code, out } = await runExample('examples/consumer-service.ts', (child, output) => {
      // Mid-stream: after the first progress line, long before the 5,000 records are done.
      waitFor(() => /processed \d+/.test(output()), 100_000)
        .then(() => {
          signalled = true
          child.kill('SIGTERM')
        })
        .catch(() => undefined)
    })
    expect(signalled, out.slice(-3000)).toBe(true)
    expect(code, out.slice(-3000)).toBe(0)
    const m = /stopped: processed=(\d+) lag=(\d+) topic=(\S+) group=(\S+)/.exec(out)
    expect(m, out.slice(-3000)).not.toBeNull()
    const [processed, lag, , groupId] = [Number(m![1]), Number(m![2]), m![3], m![4]!]
    expect(processed).toBeGreaterThan(0)
    expect(processed).toBeLessThan(5000)
    // Committed = processed: nothing processed is left uncommitted, nothing unprocessed is committed.
    expect(processed + lag).toBe(5000)
    const admin = testKafka().admin()
    await admin.connect()
    try {
      const { groups } = await admin.describeGroups([groupId])
      expect(groups[0]?.members).toEqual([])
    } finally {
      await admin.disconnect()
    }
  }, 120_000)

  it('examples/health-endpoints.ts: /livez and /readyz answer 200; once a handler hangs, /livez fails within the consuming TTL', async () => {
    const ttlMs = 4000
    const probes: { at: number; path: string; status: number; body: string }[] = []
    let hungAt = 0
    let failure: unknown = null
    const get = async (port: string, path: string) => {
      const res = await fetch(`http://127.0.0.1:${port}${path}`)
      const body = await res.text()
      probes.push({ at: Date.now(), path, status: res.status, body })
      return res.status
    }
    const { code, out } = await runExample(
      'examples/health-endpoints.ts',
      (child, output) => {
        void (async () => {
          await waitFor(() => /consuming (\S+);/.test(output()) && /health on http:\/\/127\.0\.0\.1:(\d+)/.test(output()), 100_000)
          const port = /health on http:\/\/127\.0\.0\.1:(\d+)/.exec(output())![1]!
          const topic = /consuming (\S+);/.exec(output())![1]!
          await waitFor(async () => (await get(port, '/readyz')) === 200 && /processed 20/.test(output()), 60_000)
          expect(await get(port, '/livez')).toBe(200)
          const producer = testKafka().producer()
          await producer.connect()
          await producer.send({ topic, messages: [{ value: 'hang' }] })
          await producer.disconnect()
          await waitFor(() => /handler hangs on offset/.test(output()), 30_000)
          hungAt = Date.now()
          await waitFor(async () => (await get(port, '/livez')) === 503, ttlMs + 10_000, 100)
        })()
          .catch((err: unknown) => (failure = err))
          .finally(() => child.kill('SIGTERM'))
      },
      // The shared broker (its topic is where this test produces), not one of the example's own.
      { PORT: '0', CONSUME_TTL_MS: String(ttlMs), KAFKATUNE_KAFKA_MODE: 'external' },
    )
    expect(failure, out.slice(-3000)).toBeNull()
    expect(code, out.slice(-3000)).toBe(0)
    const livez = probes.filter((p) => p.path === '/livez')
    const firstFailure = livez.find((p) => p.status === 503)!
    // Healthy before: every earlier probe passed, including those while the handler already hung.
    expect(livez.filter((p) => p.at < firstFailure.at).every((p) => p.status === 200)).toBe(true)
    expect(livez.filter((p) => p.at >= hungAt && p.at < firstFailure.at).length).toBeGreaterThan(0)
    // Not before the TTL, and within it plus the probe interval and output latency.
    expect(firstFailure.at - hungAt).toBeGreaterThanOrEqual(ttlMs - 250)
    expect(firstFailure.at - hungAt).toBeLessThan(ttlMs + 2000)
    const body = JSON.parse(firstFailure.body) as { status: string; reasons: string[] }
    expect(body.status).toBe('failing')
    expect(body.reasons).toEqual([expect.stringMatching(new RegExp(`^consumer consume: oldest handler call running for \\d+ ms \\(ttl ${ttlMs} ms\\)$`))])
  }, 120_000)
})
