/** Pure parts of the command: `--set` parsing, the doctor's rules, the bench recommendation, its layering. */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { PresetResult } from '../../src/cli/bench-run.js'
import { percentile } from '../../src/cli/bench-run.js'
import { recommend } from '../../src/cli/bench.js'
import { diagnose, doctorExitCode, topicFindings } from '../../src/cli/doctor-checks.js'
import type { ClientPlan } from '../../src/cli/doctor-checks.js'
import { parseSets, parseSetValue } from '../../src/cli/set-values.js'

const plan: ClientPlan = { preset: null, acks: 'all', compression: 'none', maxRequestSize: 1_048_576, sessionTimeoutMs: 45_000, transactional: false }
const topic = (rf: number, isr: number, config: Record<string, string> = {}) => ({
  name: 't',
  partitions: [0, 1].map((partition) => ({ partition, leader: 1, replicas: [1, 2, 3].slice(0, rf), isr: [1, 2, 3].slice(0, isr) })),
  config: { 'min.insync.replicas': '2', 'compression.type': 'producer', 'max.message.bytes': '1048588', ...config },
})

describe('--set values', () => {
  it('numbers, booleans, JSON and bare strings', () => {
    expect(parseSetValue('50')).toBe(50)
    expect(parseSetValue('-1')).toBe(-1)
    expect(parseSetValue('true')).toBe(true)
    expect(parseSetValue('lz4')).toBe('lz4')
    expect(parseSetValue('["range","sticky"]')).toEqual(['range', 'sticky'])
    expect(parseSetValue('"007"')).toBe('007')
  })

  it('any safe integer round-trips', () => {
    fc.assert(fc.property(fc.integer(), (n) => parseSetValue(String(n)) === n))
  })

  it('Java property names map to options; acks=-1 is acks all; prefixes pick a pipeline side', () => {
    expect(parseSets(['linger.ms=20', 'acks=-1', 'consumer.fetch.max.wait.ms=10', 'producer.batchSize=1'])).toEqual([
      { option: 'lingerMs', value: 20 },
      { option: 'acks', value: 'all' },
      { option: 'fetchMaxWaitMs', value: 10, side: 'consumer' },
      { option: 'batchSize', value: 1, side: 'producer' },
    ])
  })
})

describe('doctor rules', () => {
  it('a healthy RF 3 / min ISR 2 topic has no finding; each broken setting has one', () => {
    expect(topicFindings(topic(3, 3), plan, 3)).toEqual([])
    expect(topicFindings(topic(3, 2), plan, 3).map((f) => f.check)).toEqual(['topic.under-replicated'])
    expect(topicFindings(topic(1, 1, { 'min.insync.replicas': '1' }), plan, 3).map((f) => f.check)).toEqual(['topic.replication-factor'])
    expect(topicFindings(topic(1, 1, { 'min.insync.replicas': '1' }), plan, 1)).toEqual([])
    expect(topicFindings(topic(3, 3, { 'min.insync.replicas': '1' }), plan, 3).map((f) => f.check)).toEqual(['topic.min-isr-one'])
    expect(topicFindings(topic(3, 3, { 'min.insync.replicas': '3' }), plan, 3).map((f) => f.check)).toEqual(['topic.min-isr-equals-rf'])
    expect(topicFindings(topic(3, 3, { 'compression.type': 'zstd' }), plan, 3).map((f) => f.check)).toEqual(['topic.compression-mismatch'])
    expect(topicFindings(topic(3, 3, { 'compression.type': 'uncompressed' }), plan, 3)).toEqual([])
  })

  it('offline partitions are errors and come first', () => {
    const t = topic(3, 3)
    t.partitions[0]!.leader = -1
    const fs = diagnose({ brokerCount: 3, broker: {}, topics: [t, topic(3, 3, { 'unclean.leader.election.enable': 'true' })], groups: [] }, plan)
    expect(fs[0]).toMatchObject({ severity: 'error', check: 'topic.offline-partitions' })
    expect(doctorExitCode(fs)).toBe(1)
    expect(doctorExitCode([{ ...fs[0]!, severity: 'info' }])).toBe(0)
  })

  it('members above partitions and lag nobody consumes', () => {
    const lag = { groupId: 'g', topic: 't', total: 7, partitions: [] }
    const fs = diagnose(
      { brokerCount: 1, broker: {}, topics: [topic(1, 1, { 'min.insync.replicas': '1' })], groups: [{ group: { groupId: 'g', state: 'Stable', protocol: 'range', members: [1, 2, 3].map((i) => ({ memberId: `m${i}`, clientId: 'c', clientHost: 'h' })) }, lags: [lag] }] },
      plan,
    )
    expect(fs.map((f) => f.check)).toEqual(['group.members-above-partitions'])
    const empty = diagnose({ brokerCount: 1, broker: {}, topics: [], groups: [{ group: { groupId: 'g', state: 'Empty', protocol: '', members: [] }, lags: [lag] }] }, plan)
    expect(empty.map((f) => f.check)).toEqual(['group.no-members-with-lag'])
  })
})

describe('bench', () => {
  it('percentile of sorted samples', () => {
    expect(percentile([], 50)).toBe(0)
    expect(percentile([1, 2, 3, 4], 50)).toBe(2)
    expect(percentile([1, 2, 3, 4], 99)).toBe(4)
    fc.assert(
      fc.property(fc.array(fc.integer(), { minLength: 1 }), fc.integer({ min: 0, max: 100 }), (xs, p) => {
        const s = [...xs].sort((a, b) => a - b)
        return s.includes(percentile(s, p)) && percentile(s, p) <= percentile(s, 100)
      }),
    )
  })

  it('recommends by goal with the numbers as the reason', () => {
    const r = (preset: PresetResult['preset'], perSec: number, p99: number): PresetResult => ({
      preset,
      latency: { offeredPerSec: 1000, records: 1000, p50Ms: p99 / 2, p99Ms: p99, maxMs: p99, cpuPct: 10 },
      throughput: { records: perSec, producerPerSec: perSec, producerMBps: perSec / 10_000, producerCpuPct: 50, consumerPerSec: perSec, consumerMBps: perSec / 10_000, consumerCpuPct: 40 },
    })
    const results = [r('low-latency', 10_000, 5), r('high-throughput', 40_000, 60), r('exactly-once', 8_000, 40)]
    expect(recommend(results, 'throughput')?.preset).toBe('high-throughput')
    expect(recommend(results, 'throughput')?.reason).toMatch(/4\.0x low-latency/)
    expect(recommend(results, 'latency')?.preset).toBe('low-latency')
    expect(recommend(results, 'durability')).toMatchObject({ preset: 'exactly-once', reason: expect.stringMatching(/20% of high-throughput/) })
  })
})

describe('layering', () => {
  it('src/cli imports only the public API (src/index.ts), src/testing, commander, pino and node builtins', () => {
    const dir = join(import.meta.dirname, '../../src/cli')
    for (const file of readdirSync(dir)) {
      const text = readFileSync(join(dir, file), 'utf8')
      for (const [, spec] of text.matchAll(/^import[^'"]*['"]([^'"]+)['"]/gm)) {
        const ok = spec!.startsWith('./') || spec!.startsWith('node:') || ['../index.js', '../testing/index.js', 'commander', 'pino', '../../package.json'].includes(spec!)
        expect(ok, `${file} imports ${spec}`).toBe(true)
      }
    }
  })
})
