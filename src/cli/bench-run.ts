/**
 * The measurements behind `kafkatune bench`, on the public API only. Per preset:
 * (1) latency: a consumer reads a scratch topic while records are offered at a fixed rate; the delay from
 *     send() to the consumer's handler, after a short warm-up;
 * (2) throughput: a burst produced as fast as the producer accepts records (no consumer running), then a new
 *     consumer group drains it; each side measured alone, so neither takes CPU from the other.
 * Client CPU is this process's, as a share of one core.
 */
import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { createAdmin, createConsumer, createProducer, explainConfig, presets, serializers } from '../index.js'
import type { BuiltinPresetName, ConnectionOptions, Consumer, Producer } from '../index.js'

export interface BenchSettings {
  connection: ConnectionOptions
  /** Value size in bytes. */
  size: number
  /** Seconds per preset, split evenly between the latency and the throughput phase. */
  seconds: number
  partitions: number
  /** Records per second offered in the latency phase. */
  rate: number
  /** Seconds of untimed traffic before the first preset (a just-started broker is still warming up). */
  warmupSeconds: number
  presets: readonly BuiltinPresetName[]
  /** Scratch topics start with this; they are deleted afterwards. */
  topicPrefix: string
  signal: AbortSignal
  progress(preset: string, phase: 'latency' | 'throughput' | 'setup', fraction: number): void
  /** Something the user should know that does not fail the run (a scratch topic left behind). */
  warn(message: string): void
}

export interface PresetResult {
  preset: BuiltinPresetName
  /** Fixed offered rate: end-to-end delay (send() call to consumer handler). */
  latency: { offeredPerSec: number; records: number; p50Ms: number; p99Ms: number; maxMs: number; cpuPct: number }
  /** Burst: produced as fast as the producer accepts, then drained by a consumer alone. */
  throughput: {
    records: number
    producerPerSec: number
    producerMBps: number
    producerCpuPct: number
    consumerPerSec: number
    consumerMBps: number
    consumerCpuPct: number
  }
}

const SENT = 'kt-sent'
const PHASE = 'kt-phase'
type Phase = 'w' | 'l' | 't'

/** The value at percentile `p` of ascending `sorted`, or 0 when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!
}

const round = (n: number, digits = 1) => Number(n.toFixed(digits))
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))
const now = () => performance.timeOrigin + performance.now()
const cpuPct = (used: NodeJS.CpuUsage, wallMs: number) => round(((used.user + used.system) / 1000 / Math.max(1, wallMs)) * 100)

/** Runs every preset in turn; scratch topics are deleted even when aborted or failing. */
export async function runBench(s: BenchSettings): Promise<PresetResult[]> {
  const admin = createAdmin(s.connection)
  const created: string[] = []
  const results: PresetResult[] = []
  try {
    const first = s.presets[0]
    if (first !== undefined && s.warmupSeconds > 0) {
      const base = `${s.topicPrefix}-warmup-${randomBytes(3).toString('hex')}`
      const topics = { latency: `${base}-latency`, burst: `${base}-burst` }
      created.push(topics.latency, topics.burst)
      s.progress('warm-up', 'setup', 0)
      await admin.ensureTopic({ name: topics.latency, partitions: s.partitions })
      await admin.ensureTopic({ name: topics.burst, partitions: s.partitions })
      await benchPreset({ ...s, seconds: s.warmupSeconds, progress: () => s.progress('warm-up', 'setup', 0) }, first, topics)
    }
    for (const preset of s.presets) {
      if (s.signal.aborted) break
      const base = `${s.topicPrefix}-${preset}-${randomBytes(3).toString('hex')}`
      const topics = { latency: `${base}-latency`, burst: `${base}-burst` }
      created.push(topics.latency, topics.burst)
      s.progress(preset, 'setup', 0)
      await admin.ensureTopic({ name: topics.latency, partitions: s.partitions })
      await admin.ensureTopic({ name: topics.burst, partitions: s.partitions })
      results.push(await benchPreset(s, preset, topics))
    }
  } finally {
    for (const t of created) {
      try {
        await admin.deleteTopic(t)
      } catch (err) {
        s.warn(`could not delete scratch topic ${t}: ${err instanceof Error ? err.message : String(err)}`)
      }
    }
    await admin.disconnect()
  }
  return results
}

/** A consumer of the preset on a new group, resolved (with the `performance.now()` of its join) once it joined. */
async function joinedConsumer(
  s: BenchSettings,
  preset: BuiltinPresetName,
  topic: string,
  onBatch: (msgs: { headers: Record<string, Buffer | undefined> }[]) => void,
): Promise<{ consumer: Consumer<string, Buffer>; joinedAt: number }> {
  const consumer = createConsumer<string, Buffer>({
    ...s.connection,
    preset,
    groupId: `${topic}-group`,
    topics: [topic],
    autoOffsetReset: 'earliest',
    valueDeserializer: serializers.bytes(),
  })
  let joinedAt = 0
  let joined!: () => void
  const joinedP = new Promise<void>((r) => (joined = r))
  consumer.on('group-join', () => {
    joinedAt ||= performance.now()
    joined()
  })
  await consumer.connect()
  await consumer.run({ eachBatch: async (msgs) => onBatch(msgs) })
  await Promise.race([joinedP, sleep(30_000)])
  return { consumer, joinedAt: joinedAt || performance.now() }
}

async function benchPreset(s: BenchSettings, preset: BuiltinPresetName, topics: { latency: string; burst: string }): Promise<PresetResult> {
  const transactional = presets[preset].requiresTransactionalId === true
  const value = randomBytes(s.size)
  const phaseMs = (s.seconds * 1000) / 2
  const producer: Producer<string, Buffer> = createProducer<string, Buffer>({
    ...s.connection,
    preset: preset as 'low-latency',
    valueSerializer: serializers.bytes(),
    ...(transactional ? { transactionalId: `${topics.latency}-txn` } : {}),
  })
  const consumers: Consumer<string, Buffer>[] = []
  try {
    await producer.connect()

    // Phase 1: latency at a fixed offered rate. The first fifth (at most 1 s) warms up connections, fetch
    // sessions and the JIT and is not counted.
    const latencies: number[] = []
    const reader = await joinedConsumer(s, preset, topics.latency, (msgs) => {
      const at = now()
      for (const m of msgs) if (m.headers[PHASE]?.toString() === 'l') latencies.push(at - Number(m.headers[SENT]?.toString()))
    })
    consumers.push(reader.consumer)
    const warmupMs = Math.min(1000, phaseMs / 5)
    let failure: unknown
    let offered = 0
    let counted = 0
    const cpu0 = process.cpuUsage()
    const t0 = performance.now()
    while (!s.signal.aborted && performance.now() - t0 < phaseMs) {
      const due = Math.floor(((performance.now() - t0) * s.rate) / 1000) - offered
      if (due > 0) {
        const warm = performance.now() - t0 < warmupMs
        const ids = Array.from({ length: due }, (_, i) => offered + i)
        offered += due
        if (!warm) counted += due
        const acked = sendAll(producer, transactional, ids, topics.latency, value, warm ? 'w' : 'l')
        // Acks are not awaited (the next tick must go out on time), except a transaction's commit.
        if (transactional) await acked
        else acked.catch((err: unknown) => (failure ??= err))
      }
      s.progress(preset, 'latency', (performance.now() - t0) / phaseMs)
      await sleep(5)
    }
    await producer.flush()
    if (failure !== undefined) throw failure
    const latencyDeadline = performance.now() + 15_000
    while (!s.signal.aborted && latencies.length < counted && performance.now() < latencyDeadline) await sleep(20)
    const latencyCpu = cpuPct(process.cpuUsage(cpu0), performance.now() - t0)
    latencies.sort((a, b) => a - b)

    // Phase 2a: the burst, with at most a buffer's worth (the preset's bufferMemory) waiting for acks.
    const bufferMemory = Number(explainConfig('producer', { brokers: ['127.0.0.1:9092'], preset: preset as 'low-latency', ...(transactional ? { transactionalId: 'x' } : {}) }).find((r) => r.option === 'bufferMemory')?.value)
    const window = Math.max(1000, Math.min(200_000, Math.floor((bufferMemory * 0.8) / (s.size + 64))))
    const chunk = transactional ? 500 : 1000
    let sent = 0
    const pending: Promise<void>[] = []
    const cpu1 = process.cpuUsage()
    const t1 = performance.now()
    while (!s.signal.aborted && performance.now() - t1 < phaseMs * 0.6) {
      const ids = Array.from({ length: chunk }, (_, i) => sent + i)
      sent += chunk
      const p = sendAll(producer, transactional, ids, topics.burst, value, 't')
      // Every rejection is seen: through await below, or through Promise.all after the loop.
      p.catch(() => undefined)
      pending.push(p)
      if (transactional) await p
      while (pending.length * chunk > window) await pending.shift()
      s.progress(preset, 'throughput', (performance.now() - t1) / phaseMs)
      await new Promise<void>((r) => setImmediate(r))
    }
    await Promise.all(pending)
    await producer.flush()
    const produceMs = Math.max(1, performance.now() - t1)
    const producerCpu = cpuPct(process.cpuUsage(cpu1), produceMs)

    // Phase 2b: a new group drains the burst alone, timed from its join to the last record.
    let drained = 0
    let lastAt = 0
    const cpu2 = process.cpuUsage()
    const t2 = performance.now()
    const drainer = await joinedConsumer(s, preset, topics.burst, (msgs) => {
      drained += msgs.length
      lastAt = performance.now()
    })
    consumers.push(drainer.consumer)
    const drainDeadline = performance.now() + 60_000
    while (!s.signal.aborted && drained < sent && performance.now() < drainDeadline) {
      s.progress(preset, 'throughput', 0.6 + 0.4 * (drained / Math.max(1, sent)))
      await sleep(20)
    }
    const drainMs = Math.max(1, lastAt - drainer.joinedAt)
    const consumerCpu = cpuPct(process.cpuUsage(cpu2), performance.now() - t2)
    const mb = (n: number) => (n * s.size) / 1e6
    return {
      preset,
      latency: {
        offeredPerSec: s.rate,
        records: latencies.length,
        p50Ms: round(percentile(latencies, 50)),
        p99Ms: round(percentile(latencies, 99)),
        maxMs: round(latencies[latencies.length - 1] ?? 0),
        cpuPct: latencyCpu,
      },
      throughput: {
        records: sent,
        producerPerSec: Math.round((sent / produceMs) * 1000),
        producerMBps: round((mb(sent) / produceMs) * 1000, 2),
        producerCpuPct: producerCpu,
        consumerPerSec: Math.round((drained / drainMs) * 1000),
        consumerMBps: round((mb(drained) / drainMs) * 1000, 2),
        consumerCpuPct: consumerCpu,
      },
    }
  } finally {
    for (const c of consumers) await c.disconnect().catch((err: unknown) => s.warn(`consumer disconnect: ${err instanceof Error ? err.message : String(err)}`))
    await producer.disconnect().catch((err: unknown) => s.warn(`producer disconnect: ${err instanceof Error ? err.message : String(err)}`))
  }
}

/** Sends records and resolves when all are acked; a transactional producer sends them in one transaction. */
async function sendAll(producer: Producer<string, Buffer>, transactional: boolean, ids: readonly number[], topic: string, value: Buffer, phase: Phase): Promise<void> {
  const record = (id: number) => ({ topic, key: String(id % 1024), value, headers: { [SENT]: String(now()), [PHASE]: phase } })
  if (transactional) {
    await producer.transaction(async (tx) => {
      await Promise.all(ids.map((id) => tx.send(record(id))))
    })
    return
  }
  await Promise.all(ids.map((id) => producer.send(record(id))))
}
