/**
 * The measurements behind `kafkatune bench`, on the public API only. For each preset:
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

/**
 * Every preset's latency phase first, then every preset's burst: a burst leaves garbage to collect and a
 * broker busy flushing, which would land in the next preset's latency numbers. Scratch topics are deleted
 * even when aborted or failing.
 */
export async function runBench(s: BenchSettings): Promise<PresetResult[]> {
  const admin = createAdmin(s.connection)
  const created: string[] = []
  const scratch = async (label: string): Promise<string> => {
    const name = `${s.topicPrefix}-${label}-${randomBytes(3).toString('hex')}`
    created.push(name)
    await admin.ensureTopic({ name, partitions: s.partitions })
    return name
  }
  try {
    const first = s.presets[0]
    if (first !== undefined && s.warmupSeconds > 0 && !s.signal.aborted) {
      s.progress('warm-up', 'setup', 0)
      await measureLatency({ ...s, seconds: s.warmupSeconds * 2, progress: () => s.progress('warm-up', 'setup', 0) }, first, await scratch('warmup'))
    }
    const latency = new Map<BuiltinPresetName, PresetResult['latency']>()
    for (const preset of s.presets) {
      if (s.signal.aborted) break
      s.progress(preset, 'setup', 0)
      latency.set(preset, await measureLatency(s, preset, await scratch(`${preset}-latency`)))
    }
    const results: PresetResult[] = []
    for (const preset of s.presets) {
      const lat = latency.get(preset)
      if (s.signal.aborted || lat === undefined) break
      results.push({ preset, latency: lat, throughput: await measureThroughput(s, preset, await scratch(`${preset}-burst`)) })
    }
    return results
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

function producerFor(s: BenchSettings, preset: BuiltinPresetName, topic: string): Producer<string, Buffer> {
  const transactional = presets[preset].requiresTransactionalId === true
  return createProducer<string, Buffer>({
    ...s.connection,
    preset: preset as 'low-latency',
    valueSerializer: serializers.bytes(),
    ...(transactional ? { transactionalId: `${topic}-txn` } : {}),
  })
}

async function closeAll(s: BenchSettings, producer: Producer<string, Buffer>, consumers: Consumer<string, Buffer>[]): Promise<void> {
  for (const c of consumers) await c.disconnect().catch((err: unknown) => s.warn(`consumer disconnect: ${err instanceof Error ? err.message : String(err)}`))
  await producer.disconnect().catch((err: unknown) => s.warn(`producer disconnect: ${err instanceof Error ? err.message : String(err)}`))
}

/**
 * Records offered at a fixed rate for half of `s.seconds`, producer and consumer in this process; the first
 * fifth (at most 1 s) warms up connections, fetch sessions and the JIT and is not counted.
 */
async function measureLatency(s: BenchSettings, preset: BuiltinPresetName, topic: string): Promise<PresetResult['latency']> {
  const transactional = presets[preset].requiresTransactionalId === true
  const value = randomBytes(s.size)
  const phaseMs = (s.seconds * 1000) / 2
  const producer = producerFor(s, preset, topic)
  const consumers: Consumer<string, Buffer>[] = []
  try {
    await producer.connect()
    const latencies: number[] = []
    const reader = await joinedConsumer(s, preset, topic, (msgs) => {
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
        const acked = sendAll(producer, transactional, ids, topic, value, warm ? 'w' : 'l')
        // Acks are not awaited (the next tick must go out on time), except a transaction's commit.
        if (transactional) await acked
        else acked.catch((err: unknown) => (failure ??= err))
      }
      s.progress(preset, 'latency', (performance.now() - t0) / phaseMs)
      await sleep(5)
    }
    await producer.flush()
    if (failure !== undefined) throw failure
    const deadline = performance.now() + 15_000
    while (!s.signal.aborted && latencies.length < counted && performance.now() < deadline) await sleep(20)
    const cpu = cpuPct(process.cpuUsage(cpu0), performance.now() - t0)
    latencies.sort((a, b) => a - b)
    return {
      offeredPerSec: s.rate,
      records: latencies.length,
      p50Ms: round(percentile(latencies, 50)),
      p99Ms: round(percentile(latencies, 99)),
      maxMs: round(latencies[latencies.length - 1] ?? 0),
      cpuPct: cpu,
    }
  } finally {
    await closeAll(s, producer, consumers)
  }
}

/** A burst produced with nothing consuming (at most a buffer's worth outstanding), then drained by a new group alone. */
async function measureThroughput(s: BenchSettings, preset: BuiltinPresetName, topic: string): Promise<PresetResult['throughput']> {
  const transactional = presets[preset].requiresTransactionalId === true
  const value = randomBytes(s.size)
  const phaseMs = (s.seconds * 1000) / 2
  const producer = producerFor(s, preset, topic)
  const consumers: Consumer<string, Buffer>[] = []
  try {
    await producer.connect()
    const bufferMemory = Number(
      explainConfig('producer', { brokers: ['127.0.0.1:9092'], preset: preset as 'low-latency', ...(transactional ? { transactionalId: 'x' } : {}) }).find((r) => r.option === 'bufferMemory')?.value,
    )
    const window = Math.max(1000, Math.min(200_000, Math.floor((bufferMemory * 0.8) / (s.size + 64))))
    const chunk = transactional ? 500 : 1000
    let sent = 0
    const pending: Promise<void>[] = []
    const cpu1 = process.cpuUsage()
    const t1 = performance.now()
    while (!s.signal.aborted && performance.now() - t1 < phaseMs * 0.6) {
      const ids = Array.from({ length: chunk }, (_, i) => sent + i)
      sent += chunk
      const p = sendAll(producer, transactional, ids, topic, value, 't')
      // Every rejection is seen: through the awaits below or Promise.all after the loop.
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

    let drained = 0
    let lastAt = 0
    const cpu2 = process.cpuUsage()
    const t2 = performance.now()
    const drainer = await joinedConsumer(s, preset, topic, (msgs) => {
      drained += msgs.length
      lastAt = performance.now()
    })
    consumers.push(drainer.consumer)
    const deadline = performance.now() + 60_000
    while (!s.signal.aborted && drained < sent && performance.now() < deadline) {
      s.progress(preset, 'throughput', 0.6 + 0.4 * (drained / Math.max(1, sent)))
      await sleep(20)
    }
    // Timed from the join, so the group's join does not count against the consumer.
    const drainMs = Math.max(1, lastAt - drainer.joinedAt)
    const consumerCpu = cpuPct(process.cpuUsage(cpu2), performance.now() - t2)
    const mb = (n: number) => (n * s.size) / 1e6
    return {
      records: sent,
      producerPerSec: Math.round((sent / produceMs) * 1000),
      producerMBps: round((mb(sent) / produceMs) * 1000, 2),
      producerCpuPct: producerCpu,
      consumerPerSec: Math.round((drained / drainMs) * 1000),
      consumerMBps: round((mb(drained) / drainMs) * 1000, 2),
      consumerCpuPct: consumerCpu,
    }
  } finally {
    await closeAll(s, producer, consumers)
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
