/** What the bench phases share: settings and result types, clients per preset, and the record stamp. */
import { performance } from 'node:perf_hooks'
import { createConsumer, createProducer, presets, serializers } from '../index.js'
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
  /**
   * A transactional preset's burst commits a transaction every this many ms (Kafka Streams' commit.interval.ms
   * under exactly_once_v2 is 100), as an exactly-once application commits by time, not per batch of records.
   */
  commitIntervalMs: number
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
    /** Transactions committed during the burst (transactional presets only). */
    transactions?: number
  }
}

/** Header with the send() time (ms since the epoch, fractional), and one with the phase of the record. */
export const SENT = 'kt-sent'
export const PHASE = 'kt-phase'
export type Phase = 'w' | 'l' | 't'

/** The value at percentile `p` of ascending `sorted`, or 0 when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!
}

export const round = (n: number, digits = 1) => Number(n.toFixed(digits))
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))
export const now = () => performance.timeOrigin + performance.now()
export const cpuPct = (used: NodeJS.CpuUsage, wallMs: number) => round(((used.user + used.system) / 1000 / Math.max(1, wallMs)) * 100)

/** A consumer of the preset on a new group, resolved (with the `performance.now()` of its join) once it joined. */
export async function joinedConsumer(
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

export function producerFor(s: BenchSettings, preset: BuiltinPresetName, topic: string): Producer<string, Buffer> {
  const transactional = presets[preset].requiresTransactionalId === true
  return createProducer<string, Buffer>({
    ...s.connection,
    preset: preset as 'low-latency',
    valueSerializer: serializers.bytes(),
    ...(transactional ? { transactionalId: `${topic}-txn` } : {}),
  })
}

export async function closeAll(s: BenchSettings, producer: Producer<string, Buffer>, consumers: Consumer<string, Buffer>[]): Promise<void> {
  for (const c of consumers) await c.disconnect().catch((err: unknown) => s.warn(`consumer disconnect: ${err instanceof Error ? err.message : String(err)}`))
  await producer.disconnect().catch((err: unknown) => s.warn(`producer disconnect: ${err instanceof Error ? err.message : String(err)}`))
}

/** The record the bench sends as number `id`: its send() time and phase in headers. */
export function benchRecord(topic: string, id: number, value: Buffer, phase: Phase): { topic: string; key: string; value: Buffer; headers: Record<string, string> } {
  return { topic, key: String(id % 1024), value, headers: { [SENT]: String(now()), [PHASE]: phase } }
}

/** Sends records and resolves when all are acked; a transactional producer sends them in one transaction. */
export async function sendAll(producer: Producer<string, Buffer>, transactional: boolean, ids: readonly number[], topic: string, value: Buffer, phase: Phase): Promise<void> {
  const record = (id: number) => benchRecord(topic, id, value, phase)
  if (transactional) {
    await producer.transaction(async (tx) => {
      await Promise.all(ids.map((id) => tx.send(record(id))))
    })
    return
  }
  await Promise.all(ids.map((id) => producer.send(record(id))))
}
