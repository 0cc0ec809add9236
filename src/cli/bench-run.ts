/**
 * The measurements behind `kafkatune bench`, on the public API only. Per preset: a consumer joins a
 * scratch topic, then (1) latency: records offered at a fixed rate, end-to-end delay from send() to the
 * consumer's handler; (2) throughput: a burst as fast as the producer takes records. Client CPU is the
 * whole process (producer and consumer share it) as a share of one core.
 */
import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { createAdmin, createConsumer, createProducer, presets, serializers } from '../index.js'
import type { BuiltinPresetName, ConnectionOptions, Producer } from '../index.js'

export interface BenchSettings {
  connection: ConnectionOptions
  /** Value size in bytes. */
  size: number
  /** Seconds per preset, split evenly between the latency and the throughput phase. */
  seconds: number
  partitions: number
  /** Records per second offered in the latency phase. */
  rate: number
  presets: readonly BuiltinPresetName[]
  /** Scratch topics start with this; they are deleted afterwards. */
  topicPrefix: string
  signal: AbortSignal
  progress(preset: string, phase: 'latency' | 'throughput' | 'setup', fraction: number): void
}

export interface PresetResult {
  preset: BuiltinPresetName
  /** Fixed offered rate: end-to-end delay (send() call to consumer handler). */
  latency: { offeredPerSec: number; records: number; p50Ms: number; p99Ms: number; maxMs: number; cpuPct: number }
  /** Burst: records accepted as fast as the producer takes them. */
  throughput: { records: number; producerPerSec: number; producerMBps: number; endToEndPerSec: number; endToEndMBps: number; cpuPct: number }
}

const SENT = 'kt-sent'
const PHASE = 'kt-phase'

/** The value at percentile `p` of ascending `sorted`, or 0 when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!
}

const round = (n: number, digits = 1) => Number(n.toFixed(digits))
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/** Runs every preset in turn; scratch topics are deleted even when aborted or failing. */
export async function runBench(s: BenchSettings): Promise<PresetResult[]> {
  const admin = createAdmin(s.connection)
  const created: string[] = []
  const results: PresetResult[] = []
  try {
    for (const preset of s.presets) {
      if (s.signal.aborted) break
      const topic = `${s.topicPrefix}-${preset}-${randomBytes(3).toString('hex')}`
      created.push(topic)
      s.progress(preset, 'setup', 0)
      await admin.ensureTopic({ name: topic, partitions: s.partitions })
      results.push(await benchPreset(s, preset, topic))
    }
  } finally {
    for (const t of created) await admin.deleteTopic(t).catch(() => undefined)
    await admin.disconnect()
  }
  return results
}

async function benchPreset(s: BenchSettings, preset: BuiltinPresetName, topic: string): Promise<PresetResult> {
  const transactional = presets[preset].requiresTransactionalId === true
  const value = randomBytes(s.size)
  const latencies: number[] = []
  const burst = { received: 0, lastAt: 0 }
  let latencyReceived = 0
  let failure: unknown
  const consumer = createConsumer<string, Buffer>({
    ...s.connection,
    preset,
    groupId: `${topic}-group`,
    topics: [topic],
    autoOffsetReset: 'earliest',
    valueDeserializer: serializers.bytes(),
  })
  let joined!: () => void
  const joinedP = new Promise<void>((r) => (joined = r))
  consumer.on('group-join', () => joined())
  await consumer.connect()
  await consumer.run({
    eachBatch: async (msgs) => {
      const now = performance.timeOrigin + performance.now()
      for (const m of msgs) {
        const phase = m.headers[PHASE]?.toString()
        if (phase === 'l') {
          latencies.push(now - Number(m.headers[SENT]?.toString()))
          latencyReceived++
        } else if (phase === 't') {
          burst.received++
          burst.lastAt = now
        }
      }
    },
  })
  const producer: Producer<string, Buffer> = createProducer<string, Buffer>({
    ...s.connection,
    preset: preset as 'low-latency',
    valueSerializer: serializers.bytes(),
    ...(transactional ? { transactionalId: `${topic}-txn` } : {}),
  })
  try {
    await producer.connect()
    await Promise.race([joinedP, sleep(30_000)])
    const phaseMs = (s.seconds * 1000) / 2

    // Phase 1: latency at a fixed offered rate.
    const cpu0 = process.cpuUsage()
    const t0 = performance.now()
    let offered = 0
    while (!s.signal.aborted && performance.now() - t0 < phaseMs) {
      const due = Math.floor(((performance.now() - t0) * s.rate) / 1000) - offered
      if (due > 0) {
        const batch = Array.from({ length: due }, (_, i) => offered + i)
        offered += due
        const acked = sendAll(producer, transactional, batch, topic, value, 'l')
        // Acks are not awaited (the next tick must go out on time), except a transaction's commit.
        if (transactional) await acked
        else acked.catch((err: unknown) => (failure ??= err))
      }
      s.progress(preset, 'latency', (performance.now() - t0) / phaseMs)
      await sleep(2)
    }
    await producer.flush()
    if (failure !== undefined) throw failure
    const latencyDeadline = performance.now() + 15_000
    while (!s.signal.aborted && latencyReceived < offered && performance.now() < latencyDeadline) await sleep(20)
    const latencyWall = performance.now() - t0
    const latencyCpu = process.cpuUsage(cpu0)

    // Phase 2: throughput from a burst, at most ~4 MiB or 20,000 records waiting for acks.
    const cpu1 = process.cpuUsage()
    const t1 = performance.now()
    const window = Math.max(100, Math.min(20_000, Math.floor((4 * 1024 * 1024) / Math.max(1, s.size))))
    let sent = 0
    let lastAck = t1
    const pending: Promise<unknown>[] = []
    while (!s.signal.aborted && performance.now() - t1 < phaseMs) {
      const chunk = transactional ? 500 : 1000
      const ids = Array.from({ length: chunk }, (_, i) => sent + i)
      sent += chunk
      const p = sendAll(producer, transactional, ids, topic, value, 't').then(() => {
        lastAck = performance.now()
      })
      pending.push(p)
      if (transactional) await p
      while (pending.length * chunk > window) await pending.shift()
      s.progress(preset, 'throughput', (performance.now() - t1) / phaseMs)
      await new Promise<void>((r) => setImmediate(r))
    }
    await Promise.all(pending)
    await producer.flush()
    const produceSecs = Math.max(1e-3, (lastAck - t1) / 1000)
    const burstDeadline = performance.now() + 30_000
    while (!s.signal.aborted && burst.received < sent && performance.now() < burstDeadline) await sleep(20)
    const e2eSecs = Math.max(1e-3, ((burst.lastAt || performance.timeOrigin + performance.now()) - (performance.timeOrigin + t1)) / 1000)
    const burstWall = performance.now() - t1
    const burstCpu = process.cpuUsage(cpu1)
    latencies.sort((a, b) => a - b)
    const mb = (n: number) => (n * s.size) / 1e6
    return {
      preset,
      latency: {
        offeredPerSec: s.rate,
        records: latencies.length,
        p50Ms: round(percentile(latencies, 50)),
        p99Ms: round(percentile(latencies, 99)),
        maxMs: round(latencies[latencies.length - 1] ?? 0),
        cpuPct: round(((latencyCpu.user + latencyCpu.system) / 1000 / latencyWall) * 100),
      },
      throughput: {
        records: sent,
        producerPerSec: Math.round(sent / produceSecs),
        producerMBps: round(mb(sent) / produceSecs, 2),
        endToEndPerSec: Math.round(burst.received / e2eSecs),
        endToEndMBps: round(mb(burst.received) / e2eSecs, 2),
        cpuPct: round(((burstCpu.user + burstCpu.system) / 1000 / burstWall) * 100),
      },
    }
  } finally {
    await consumer.disconnect().catch(() => undefined)
    await producer.disconnect().catch(() => undefined)
  }
}

/** Sends records and resolves when all are acked; a transactional producer sends them in one transaction. */
async function sendAll(producer: Producer<string, Buffer>, transactional: boolean, ids: readonly number[], topic: string, value: Buffer, phase: 'l' | 't'): Promise<void> {
  const record = (id: number) => ({
    topic,
    key: String(id % 1024),
    value,
    headers: { [SENT]: String(performance.timeOrigin + performance.now()), [PHASE]: phase },
  })
  if (transactional) {
    await producer.transaction(async (tx) => {
      await Promise.all(ids.map((id) => tx.send(record(id))))
    })
    return
  }
  await Promise.all(ids.map((id) => producer.send(record(id))))
}
