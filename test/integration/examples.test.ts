/** Every example in examples/ runs to completion against the shared broker (and a real registry where needed). */
import { spawn } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { brokers } from '../helpers/kafka.js'
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

function runExample(path: string): Promise<{ code: number | null; out: string }> {
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
})
