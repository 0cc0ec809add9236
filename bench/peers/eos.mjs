/**
 * The exactly-once section of bench/peers.mjs: each client's transactional producer next to its own
 * `high-throughput` producer, in the same interleaved rounds, so "exactly-once vs high-throughput" is a
 * ratio measured under the same load for kafkatune and for the Java client.
 *
 * Transactions commit by time, as the Java world measures exactly-once throughput: Kafka Streams with
 * exactly_once_v2 commits every commit.interval.ms (100 ms by default), ProducerPerformance
 * --transactional-id every --transaction-duration-ms (3000 ms by default). BENCH_TXN_MS (default 100)
 * sets the interval for both clients.
 */
import { median } from './common.mjs'

export const TXN_MS = Number(process.env.BENCH_TXN_MS ?? 100)

const fmt = (x, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a')

/**
 * Runs `rounds` rounds of: kafkatune high-throughput, kafkatune exactly-once, and (when `java` is given)
 * Java high-throughput and exactly-once, at 100 B and 1 KiB. Returns one row per run.
 */
export async function runEosSection({ brokers, rounds, scale, javaFactor, java, runChild, fresh, drop, log }) {
  const rows = []
  const sizes = [
    { size: '100 B', bytes: 100, count: Math.round(200_000 * scale) },
    { size: '1 KiB', bytes: 1024, count: Math.round(60_000 * scale) },
  ]
  const runs = [
    { client: 'kafkatune', mode: 'high-throughput', run: (a) => runChild('producer', 'kafkatune', { ...a, compression: 'lz4' }, null) },
    { client: 'kafkatune', mode: 'exactly-once', run: (a) => runChild('producer', 'kafkatuneEos', { ...a, txnMs: TXN_MS }, null) },
  ]
  if (java !== null) {
    runs.push({ client: 'java', mode: 'high-throughput', run: (a) => java.javaProducer({ ...a, count: a.count * javaFactor, compression: 'lz4' }) })
    runs.push({ client: 'java', mode: 'exactly-once', run: (a) => java.javaProducerEos({ ...a, count: a.count * javaFactor, txnMs: TXN_MS }) })
  }
  for (let round = 0; round < rounds; round++) {
    for (const s of sizes) {
      // Rotate the order each round so no contender always runs first.
      for (let k = 0; k < runs.length; k++) {
        const c = runs[(k + round) % runs.length]
        const topic = await fresh(`peers-eos-${c.client}`)
        const r = await c.run({ brokers, topic, bytes: s.bytes, count: s.count })
        rows.push({ ...r, size: s.size, client: c.client, mode: c.mode, round })
        log(`eos r${round + 1} ${s.size} ${c.client} ${c.mode}`, r)
        await drop(topic)
      }
    }
  }
  return rows
}

/** Markdown: per size and client, medians of both modes and the exactly-once / high-throughput ratio per round. */
export function eosReport(rows) {
  if (rows.length === 0) return null
  const lines = [
    `Exactly-once producer (transactions committed every ${TXN_MS} ms; acks all, idempotent, the preset's batching) vs the same client's high-throughput producer (acks 1, lz4), 6 partitions, same rounds:`,
    '',
    '| records | client | high-throughput records/s | exactly-once records/s | exactly-once / high-throughput (per round) | exactly-once CPU s / 1M records |',
    '|---|---|---:|---:|---:|---:|',
  ]
  for (const size of [...new Set(rows.map((r) => r.size))]) {
    for (const client of [...new Set(rows.map((r) => r.client))]) {
      const of = (mode) => rows.filter((r) => r.size === size && r.client === client && r.mode === mode)
      const ht = of('high-throughput')
      const eos = of('exactly-once')
      if (ht.length === 0 || eos.length === 0) continue
      const rate = (r) => r.records / r.seconds
      const paired = eos.map((e) => {
        const h = ht.find((x) => x.round === e.round)
        return h === undefined ? NaN : rate(e) / rate(h)
      })
      const cpu = median(eos.map((r) => (r.cpuSeconds / r.records) * 1e6))
      lines.push(`| ${size} | ${client} | ${fmt(median(ht.map(rate)))} | ${fmt(median(eos.map(rate)))} | ${fmt(median(paired), 2)}x (${paired.map((x) => fmt(x, 2)).join(', ')}) | ${fmt(cpu, 2)} |`)
    }
  }
  return lines.join('\n')
}
