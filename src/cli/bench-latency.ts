/**
 * Latency at a fixed offered rate, for several presets at once. Every preset gets its own topic, producer and
 * consumer, all connected for the whole phase; the presets take turns offering records in short slices, so a
 * stall of a shared, busy machine lands on all of them alike instead of on whichever ran at that moment.
 */
import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { presets } from '../index.js'
import type { BuiltinPresetName, Consumer, Producer } from '../index.js'
import { closeAll, cpuPct, joinedConsumer, now, PHASE, percentile, producerFor, round, SENT, sendAll, sleep } from './bench-clients.js'
import type { BenchSettings, PresetResult } from './bench-clients.js'

/** One turn of one preset. */
const SLICE_MS = 500

interface Lane {
  preset: BuiltinPresetName
  topic: string
  transactional: boolean
  producer: Producer<string, Buffer>
  consumers: Consumer<string, Buffer>[]
  latencies: number[]
  counted: number
  offered: number
  cpuMicros: number
  wallMs: number
  failure: unknown
}

/** Offers `s.rate` records/s for `s.seconds / 2` per preset (after an uncounted warm-up) and returns the delays. */
export async function measureLatencies(s: BenchSettings, topics: ReadonlyMap<BuiltinPresetName, string>): Promise<Map<BuiltinPresetName, PresetResult['latency']>> {
  const value = randomBytes(s.size)
  const lanes: Lane[] = []
  try {
    for (const [preset, topic] of topics) {
      const lane: Lane = {
        preset,
        topic,
        transactional: presets[preset].requiresTransactionalId === true,
        producer: producerFor(s, preset, topic),
        consumers: [],
        latencies: [],
        counted: 0,
        offered: 0,
        cpuMicros: 0,
        wallMs: 0,
        failure: undefined,
      }
      lanes.push(lane)
      s.progress(preset, 'setup', 0)
      await lane.producer.connect()
      const reader = await joinedConsumer(s, preset, topic, (msgs) => {
        const at = now()
        for (const m of msgs) if (m.headers[PHASE]?.toString() === 'l') lane.latencies.push(at - Number(m.headers[SENT]?.toString()))
      })
      lane.consumers.push(reader.consumer)
    }
    // Warm-up, not counted: --warmup seconds spread over the presets, and at least one slice each.
    const warmSlices = Math.max(1, Math.ceil((s.warmupSeconds * 1000) / SLICE_MS / Math.max(1, lanes.length)))
    for (let i = 0; i < warmSlices && !s.signal.aborted; i++) {
      for (const lane of lanes) {
        s.progress('warm-up', 'setup', 0)
        await offer(s, lane, value, SLICE_MS, false)
      }
    }
    const slices = Math.max(1, Math.round((s.seconds * 1000) / 2 / SLICE_MS))
    for (let i = 0; i < slices && !s.signal.aborted; i++) {
      for (const lane of lanes) {
        s.progress(lane.preset, 'latency', i / slices)
        await offer(s, lane, value, SLICE_MS, true)
      }
    }
    const results = new Map<BuiltinPresetName, PresetResult['latency']>()
    for (const lane of lanes) {
      await lane.producer.flush()
      if (lane.failure !== undefined) throw lane.failure
    }
    const deadline = performance.now() + 15_000
    while (!s.signal.aborted && lanes.some((l) => l.latencies.length < l.counted) && performance.now() < deadline) await sleep(20)
    for (const lane of lanes) {
      const sorted = [...lane.latencies].sort((a, b) => a - b)
      results.set(lane.preset, {
        offeredPerSec: s.rate,
        records: sorted.length,
        p50Ms: round(percentile(sorted, 50)),
        p99Ms: round(percentile(sorted, 99)),
        maxMs: round(sorted[sorted.length - 1] ?? 0),
        cpuPct: cpuPct({ user: lane.cpuMicros, system: 0 }, lane.wallMs),
      })
    }
    return results
  } finally {
    for (const lane of lanes) await closeAll(s, lane.producer, lane.consumers)
  }
}

/** One preset offers `s.rate` records/s for `ms`; with `counted`, they are measured. */
async function offer(s: BenchSettings, lane: Lane, value: Buffer, ms: number, counted: boolean): Promise<void> {
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  let sent = 0
  while (!s.signal.aborted && performance.now() - t0 < ms) {
    const due = Math.floor(((performance.now() - t0) * s.rate) / 1000) - sent
    if (due > 0) {
      const ids = Array.from({ length: due }, (_, i) => lane.offered + i)
      sent += due
      lane.offered += due
      if (counted) lane.counted += due
      const acked = sendAll(lane.producer, lane.transactional, ids, lane.topic, value, counted ? 'l' : 'w')
      // Acks are not awaited (the next tick must go out on time), except a transaction's commit.
      if (lane.transactional) await acked
      else acked.catch((err: unknown) => (lane.failure ??= err))
    }
    await sleep(5)
  }
  if (counted) {
    const used = process.cpuUsage(cpu0)
    lane.cpuMicros += used.user + used.system
    lane.wallMs += performance.now() - t0
  }
}
