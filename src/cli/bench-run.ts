/**
 * The measurements behind `kafkatune bench`, on the public API only:
 * (1) latency (bench-latency.ts): records offered at a fixed rate, delay from send() to the consumer's handler;
 * (2) throughput: per preset, a burst produced as fast as the producer accepts records (nothing consuming),
 *     then drained by a new consumer group; each side measured alone, so neither takes CPU from the other.
 * Every latency measurement runs before any burst: a burst leaves garbage to collect and a broker busy
 * flushing, which would land in latency numbers. Client CPU is this process's, as a share of one core.
 */
import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { createAdmin, explainConfig, presets } from '../index.js'
import type { BuiltinPresetName, Consumer } from '../index.js'
import { benchRecord, closeAll, cpuPct, joinedConsumer, producerFor, round, sendAll, sleep } from './bench-clients.js'
import type { BenchSettings, PresetResult } from './bench-clients.js'
import { measureLatencies } from './bench-latency.js'

export type { BenchSettings, PresetResult } from './bench-clients.js'
export { percentile } from './bench-clients.js'

/** Runs the latency rounds, then every preset's burst; scratch topics are deleted even when aborted or failing. */
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
    const topics = new Map<BuiltinPresetName, string>()
    for (const preset of s.presets) topics.set(preset, await scratch(`${preset}-latency`))
    const latency = await measureLatencies(s, topics)
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
    const chunk = 1000
    let sent = 0
    let transactions = 0
    const cpu1 = process.cpuUsage()
    const t1 = performance.now()
    const running = () => !s.signal.aborted && performance.now() - t1 < phaseMs * 0.6
    /** Sends chunks while `more()` (at most `window` records outstanding); resolves when all are acked. */
    const burst = async (send: (id: number) => Promise<unknown>, more: () => boolean): Promise<void> => {
      const pending: Promise<unknown>[] = []
      do {
        const first = sent
        sent += chunk
        const p = Promise.all(Array.from({ length: chunk }, (_, i) => send(first + i)))
        // Every rejection is seen: through the awaits below or Promise.all after the loop.
        p.catch(() => undefined)
        pending.push(p)
        while (pending.length * chunk > window) await pending.shift()
        s.progress(preset, 'throughput', (performance.now() - t1) / phaseMs)
        await new Promise<void>((r) => setImmediate(r))
      } while (more())
      await Promise.all(pending)
    }
    if (transactional) {
      // One transaction per commit interval, records sent without waiting for each other inside it.
      while (running()) {
        await producer.transaction(async (tx) => {
          const started = performance.now()
          await burst((id) => tx.send(benchRecord(topic, id, value, 't')), () => running() && performance.now() - started < s.commitIntervalMs)
        })
        transactions++
      }
    } else if (running()) {
      await burst((id) => producer.send(benchRecord(topic, id, value, 't')), running)
    }
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
      ...(transactional ? { transactions } : {}),
    }
  } finally {
    await closeAll(s, producer, consumers)
  }
}

