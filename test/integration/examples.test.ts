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

function runExample(path: string, onStart?: (child: ChildProcess, output: () => string) => void): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['scripts/run-example.mjs', path], {
      env: { ...process.env, KAFKA_BROKERS: brokers().join(','), SCHEMA_REGISTRY_URL: registry?.url ?? '' },
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
})
