#!/usr/bin/env node
/**
 * Producer benchmark, one run, one broker: naive kafkajs (one awaited send per record), hand-tuned
 * kafkajs (sendBatch, 1,000-record chunks, several in flight) and kafkatune with each preset; then
 * p99 latency at a fixed 1,000 records/s for naive kafkajs and the low-latency preset.
 *
 *   npm run build && node bench/producer.mjs            # starts its own broker (startKafka)
 *   KAFKA_BROKERS=127.0.0.1:9092 node bench/producer.mjs
 *   BENCH_SCALE=0.2 node bench/producer.mjs              # fewer records (smoke run)
 *   BENCH_RESULTS=bench/RESULTS.md node bench/producer.mjs   # also rewrite the table in that file
 *   BENCH_PAYLOADS=64 node bench/producer.mjs            # distinct payload values (default 16384, see payloads())
 *   BENCH_TXN_MS=3000 node bench/producer.mjs            # exactly-once commit interval (default 100, see TXN_MS)
 */
import { randomBytes } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { performance } from 'node:perf_hooks'
import kafkajs from 'kafkajs'
import { pino } from 'pino'
import { createProducer, serializers } from '../dist/index.js'
import { startKafka } from '../dist/testing.js'

const { Kafka, logLevel, CompressionTypes, CompressionCodecs } = kafkajs
const SCALE = Number(process.env.BENCH_SCALE ?? 1)
const PARTITIONS = 6
const logger = pino({ level: 'silent' })
const n = (x) => Math.max(100, Math.round(x * SCALE))

const SIZES = [
  { label: '100 B', bytes: 100, records: n(200_000), naive: n(5_000) },
  { label: '1 KiB', bytes: 1024, records: n(60_000), naive: n(5_000) },
]

// Payloads: random base64 text, a pool of BENCH_PAYLOADS distinct values (default 16,384) so that no value
// repeats inside a batch. With a small pool (64, as before) lz4 compresses the repeats it finds inside its
// 64 KiB window, and whether they fall inside it depends on the partitioner, not on the client: with 1 KiB
// records kafkajs's per-record round-robin put 32 distinct values in each partition (found, 410 B per
// record on disk) and kafkatune's sticky partitioner 64 (not found, 987 B per record on disk), so the
// scenarios did not send the same bytes. Random base64 does not compress otherwise.
const PAYLOADS = Number(process.env.BENCH_PAYLOADS ?? 16_384)
// Exactly-once commits by time, as the Java world measures it: Kafka Streams with exactly_once_v2 commits
// every commit.interval.ms = 100 ms, Java's ProducerPerformance --transactional-id every
// --transaction-duration-ms (default 3000 ms). 100 ms is the stricter of the two (30x the commits). A
// fixed 1,000 records per transaction is reported too, as its own row: at 250k records/s that is a commit
// every 4 ms, which measures the commit round trip, not the producer.
const TXN_MS = Number(process.env.BENCH_TXN_MS ?? 100)
const TXN_RECORDS = 1000

function payloads(bytes, count = PAYLOADS) {
  return Array.from({ length: count }, () => Buffer.from(randomBytes(bytes).toString('base64').slice(0, bytes)))
}

function percentile(sorted, p) {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]
}

/** Runs `fn` and reports throughput, CPU per million records, peak RSS and latency percentiles. */
async function measure(name, records, bytes, fn, samples) {
  if (global.gc) global.gc()
  let peakRss = process.memoryUsage().rss
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20)
  const lat = new Float64Array(records)
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  await fn(lat)
  const seconds = (performance.now() - t0) / 1000
  const cpu = process.cpuUsage(cpu0)
  clearInterval(sampler)
  peakRss = Math.max(peakRss, process.memoryUsage().rss)
  const sorted = (samples === undefined ? Array.from(lat) : samples()).sort((a, b) => a - b)
  const row = {
    name,
    records,
    recordBytes: bytes,
    seconds,
    recordsPerSec: records / seconds,
    mbPerSec: (records * bytes) / seconds / 1e6,
    cpuSecPerMillion: ((cpu.user + cpu.system) / 1e6 / records) * 1e6,
    peakRssMb: peakRss / 1048576,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
  }
  console.log(
    `${name.padEnd(34)} ${String(records).padStart(7)} rec ${row.recordsPerSec.toFixed(0).padStart(8)} rec/s ${row.mbPerSec.toFixed(1).padStart(6)} MB/s ` +
      `cpu ${row.cpuSecPerMillion.toFixed(1).padStart(6)} s/M rss ${row.peakRssMb.toFixed(0).padStart(4)} MB p50 ${row.p50.toFixed(1)} ms p99 ${row.p99.toFixed(1)} ms`,
  )
  return row
}

async function createTopic(admin, topic) {
  await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: 1 }], waitForLeaders: true })
}

let topicSeq = 0
const topicName = (label) => `bench-${label}-${Date.now()}-${topicSeq++}`

async function naiveKafkajs(kafka, admin, size, count) {
  const topic = topicName('naive')
  await createTopic(admin, topic)
  const producer = kafka.producer()
  await producer.connect()
  const values = payloads(size.bytes)
  await producer.send({ topic, messages: [{ value: values[0] }] })
  const row = await measure(`a) kafkajs naive (awaited send)`, count, size.bytes, async (lat) => {
    for (let i = 0; i < count; i++) {
      const s = performance.now()
      await producer.send({ topic, messages: [{ value: values[i % values.length] }] })
      lat[i] = performance.now() - s
    }
  })
  await producer.disconnect()
  return row
}

async function handTunedKafkajs(kafka, admin, size, count, { acks, compression, inFlight = 5, chunk = 1000 }) {
  const topic = topicName('tuned')
  await createTopic(admin, topic)
  const producer = kafka.producer()
  await producer.connect()
  const values = payloads(size.bytes)
  await producer.send({ topic, acks, compression, messages: [{ value: values[0] }] })
  const row = await measure(`b) kafkajs hand-tuned (sendBatch ${chunk}, ${inFlight} in flight)`, count, size.bytes, async (lat) => {
    let next = 0
    const worker = async () => {
      while (next < count) {
        const from = next
        const to = Math.min(count, from + chunk)
        next = to
        const messages = []
        for (let i = from; i < to; i++) messages.push({ value: values[i % values.length] })
        const s = performance.now()
        await producer.sendBatch({ acks, compression, topicMessages: [{ topic, messages }] })
        const d = performance.now() - s
        for (let i = from; i < to; i++) lat[i] = d
      }
    }
    await Promise.all(Array.from({ length: inFlight }, worker))
  })
  await producer.disconnect()
  return row
}

/** `mode` for exactly-once: 'time' commits every TXN_MS, 'count' every TXN_RECORDS records. */
async function kafkatune(brokers, admin, size, count, preset, mode = 'time') {
  const topic = topicName(preset)
  await createTopic(admin, topic)
  const options = { brokers, logger, preset, valueSerializer: serializers.bytes() }
  const eos = preset === 'exactly-once'
  if (eos) options.transactionalId = `bench-${Date.now()}`
  const producer = createProducer(options)
  await producer.connect()
  const values = payloads(size.bytes)
  if (eos) await producer.transaction(async (tx) => void (await tx.send({ topic, value: values[0] })))
  else await producer.send({ topic, value: values[0] })
  // Keep at most `window` records outstanding (what fits the preset's buffer) and yield every 1,000 sends
  // so socket I/O interleaves with the send loop.
  const window = Math.max(1000, Math.floor(producer.metrics().bufferMemory / (size.bytes + 21)))
  // Latency is sampled on every 8th record (a .then per record would be benchmark overhead, not kafkatune's).
  const sampled = []
  let transactions = 0
  const label = !eos ? `c) kafkatune '${preset}'` : mode === 'time' ? `c) kafkatune 'exactly-once', commit every ${TXN_MS} ms` : `c) kafkatune 'exactly-once', ${TXN_RECORDS} records per transaction`
  const row = await measure(label, count, size.bytes, async (lat) => {
    const pending = new Array(window)
    const sendOne = (send, i) => {
      if (i % 8 !== 0) return send({ topic, value: values[i % values.length] })
      const s = performance.now()
      return send({ topic, value: values[i % values.length] }).then(() => {
        sampled.push(performance.now() - s)
      })
    }
    // Sends records [from, to) through `send` with the window and the yields; stops early (returns the
    // next index) once `until` says so, checked at each yield.
    const sendRange = async (send, from, to, until) => {
      for (let i = from; i < to; i++) {
        const slot = i % window
        if (pending[slot] !== undefined) await pending[slot]
        pending[slot] = sendOne(send, i)
        if (i % 1000 === 999) {
          await new Promise((r) => setImmediate(r))
          if (until()) return i + 1
        }
      }
      return to
    }
    if (eos && mode === 'count') {
      for (let from = 0; from < count; from += TXN_RECORDS) {
        transactions++
        await producer.transaction(async (tx) => {
          const send = tx.send.bind(tx)
          for (let i = from; i < Math.min(count, from + TXN_RECORDS); i++) void sendOne(send, i)
        })
      }
      return
    }
    if (eos) {
      for (let from = 0; from < count; ) {
        transactions++
        await producer.transaction(async (tx) => {
          const started = performance.now()
          from = await sendRange(tx.send.bind(tx), from, count, () => performance.now() - started >= TXN_MS)
        })
      }
      return
    }
    await sendRange(producer.send.bind(producer), 0, count, () => false)
    await producer.flush()
  }, () => sampled)
  row.metrics = producer.metrics()
  row.transactions = transactions
  await producer.disconnect()
  return row
}

/** Open loop at `rate` records/s for `seconds`: each record is sent when due; latency counts from its due time. */
async function fixedRate(name, seconds, rate, sendFn) {
  const count = Math.round(seconds * rate)
  return measure(name, count, 100, async (lat) => {
    const start = performance.now()
    const inflight = []
    let i = 0
    while (i < count) {
      const now = performance.now()
      const due = Math.min(count, Math.floor(((now - start) / 1000) * rate) + 1)
      for (; i < due; i++) {
        const at = start + (i / rate) * 1000
        const k = i
        inflight.push(sendFn(k).then(() => (lat[k] = performance.now() - at)))
      }
      await new Promise((r) => setTimeout(r, 1))
    }
    await Promise.all(inflight)
  })
}

async function main() {
  const started = performance.now()
  const handle = await startKafka({ nodes: 1 })
  const brokers = handle.brokers
  console.log(`broker: ${handle.mode} ${brokers.join(',')}  node ${process.version}  scale ${SCALE}`)
  const kafka = new Kafka({ brokers, logLevel: logLevel.NOTHING, clientId: 'bench' })
  const admin = kafka.admin()
  await admin.connect()
  const rows = []
  try {
    // A kafkatune producer registers the lz4/snappy/zstd codecs process-wide; the hand-tuned kafkajs runs use them too.
    const warm = createProducer({ brokers, logger, preset: 'high-throughput' })
    await warm.connect()
    await warm.disconnect()
    const lz4 = CompressionCodecs[CompressionTypes.LZ4] !== undefined
    for (const size of SIZES) {
      console.log(`\n== ${size.label} records`)
      const group = { size: size.label, rows: [] }
      group.rows.push(await naiveKafkajs(kafka, admin, size, size.naive))
      group.rows.push(
        await handTunedKafkajs(kafka, admin, size, size.records, { acks: 1, compression: lz4 ? CompressionTypes.LZ4 : CompressionTypes.None }),
      )
      for (const preset of ['low-latency', 'high-throughput', 'exactly-once']) {
        group.rows.push(await kafkatune(brokers, admin, size, size.records, preset))
      }
      group.rows.push(await kafkatune(brokers, admin, size, Math.round(size.records / 2), 'exactly-once', 'count'))
      rows.push(group)
    }

    console.log('\n== latency at a fixed 1,000 records/s (100 B, 5 s each)')
    const latency = []
    {
      const topic = topicName('rate-naive')
      await createTopic(admin, topic)
      const producer = kafka.producer()
      await producer.connect()
      const v = payloads(100)
      await producer.send({ topic, messages: [{ value: v[0] }] })
      latency.push(await fixedRate('a) kafkajs naive @1000/s', 5, 1000, (i) => producer.send({ topic, messages: [{ value: v[i % v.length] }] })))
      await producer.disconnect()
    }
    {
      const topic = topicName('rate-ll')
      await createTopic(admin, topic)
      const producer = createProducer({ brokers, logger, preset: 'low-latency', valueSerializer: serializers.bytes() })
      await producer.connect()
      const v = payloads(100)
      await producer.send({ topic, value: v[0] })
      latency.push(await fixedRate(`c) kafkatune 'low-latency' @1000/s`, 5, 1000, (i) => producer.send({ topic, value: v[i % v.length] })))
      await producer.disconnect()
    }
    const report = renderReport(rows, latency, handle.mode, (performance.now() - started) / 1000)
    console.log(`\n${report}`)
    if (process.env.BENCH_RESULTS) {
      const file = process.env.BENCH_RESULTS
      const begin = '<!-- producer-bench:begin -->'
      const end = '<!-- producer-bench:end -->'
      let text = ''
      try {
        text = readFileSync(file, 'utf8')
      } catch {
        text = ''
      }
      const block = `${begin}\n${report}\n${end}`
      const i = text.indexOf(begin)
      const j = text.indexOf(end)
      text = i >= 0 && j > i ? text.slice(0, i) + block + text.slice(j + end.length) : `${text}${text === '' ? '' : '\n'}${block}\n`
      writeFileSync(file, text)
      console.log(`(table written to ${file})`)
    }
  } finally {
    await admin.disconnect().catch(() => undefined)
    await handle.stop()
  }
}

function renderReport(groups, latency, mode, totalSeconds) {
  const lines = []
  lines.push(`Run: ${new Date().toISOString()}, Node ${process.version}, broker mode ${mode}, BENCH_SCALE ${SCALE}, BENCH_PAYLOADS ${PAYLOADS}, total ${totalSeconds.toFixed(0)} s.`)
  lines.push('')
  lines.push('| records | scenario | records | rec/s | MB/s | CPU s / M rec | peak RSS MB | p50 ms | p99 ms | vs (a) | vs (b) | vs \'high-throughput\' |')
  lines.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
  for (const g of groups) {
    const a = g.rows[0]
    const b = g.rows[1]
    const ht = g.rows.find((r) => r.name === "c) kafkatune 'high-throughput'")
    for (const r of g.rows) {
      const vsHt = r.metrics !== undefined && ht !== undefined ? `${(r.recordsPerSec / ht.recordsPerSec).toFixed(2)}x` : ''
      lines.push(
        `| ${g.size} | ${r.name} | ${r.records} | ${r.recordsPerSec.toFixed(0)} | ${r.mbPerSec.toFixed(1)} | ${r.cpuSecPerMillion.toFixed(1)} | ${r.peakRssMb.toFixed(0)} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${(r.recordsPerSec / a.recordsPerSec).toFixed(1)}x | ${(r.recordsPerSec / b.recordsPerSec).toFixed(2)}x | ${vsHt} |`,
      )
    }
  }
  lines.push('')
  lines.push('| fixed load (100 B) | records | p50 ms | p99 ms | p99 vs (a) |')
  lines.push('|---|---:|---:|---:|---:|')
  const base = latency[0]
  for (const r of latency) lines.push(`| ${r.name} | ${r.records} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${(r.p99 / base.p99).toFixed(2)}x |`)
  lines.push('')
  const kt = groups.flatMap((g) => g.rows.filter((r) => r.metrics !== undefined).map((r) => ({ size: g.size, r })))
  lines.push('kafkatune producer.metrics() at the end of each run:')
  lines.push('')
  lines.push('| records | preset | requests | avg batch records | max batch records | avg batch KiB | request p50 / p99 ms | transactions | retries |')
  lines.push('|---|---|---:|---:|---:|---:|---:|---:|---:|')
  for (const { size, r } of kt) {
    const m = r.metrics
    lines.push(`| ${size} | ${r.name} | ${m.requests} | ${m.batchRecordsAvg.toFixed(0)} | ${m.batchRecordsMax} | ${(m.batchBytesAvg / 1024).toFixed(1)} | ${m.requestLatencyP50Ms.toFixed(1)} / ${m.requestLatencyP99Ms.toFixed(1)} | ${r.transactions || ''} | ${m.retries} |`)
  }
  return lines.join('\n')
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})
