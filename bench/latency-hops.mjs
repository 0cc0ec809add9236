/**
 * Where the end-to-end latency of the `low-latency` presets goes, per record and per hop: the peers bench's
 * latency run (bench/peers/latency.mjs: 100 B records offered open loop at 1,000/s, producer and consumer in one
 * process) with a timestamp at every hop a record passes, plus event-loop stalls and GC pauses.
 *
 *   due -> send() called -> produce request written to the socket -> ack (send() resolved)
 *                                                  \-> fetch response bytes read -> fetch decoded -> handler
 *
 * Each value carries its due time, its index and a marker, so socket writes and reads can be matched to records
 * without touching kafkatune's code: kafkajs's `Connection` and `net.Socket.write` are wrapped in this process.
 *
 *   KAFKA_BROKERS=127.0.0.1:9092 node bench/latency-hops.mjs        (or none: a local broker is started)
 *   HOPS_DIST=/path/to/dist  HOPS_RECORDS=5000  HOPS_RATE=1000  HOPS_JSON=out.json  HOPS_CONSUMER='{"commit":...}' (options merged)
 */
import { createRequire } from 'node:module'
import net from 'node:net'
import { randomBytes } from 'node:crypto'
import { join, dirname, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { loadavg } from 'node:os'
import { writeFileSync } from 'node:fs'
import { performance, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks'

const here = dirname(fileURLToPath(import.meta.url))
const dist = resolve(process.env.HOPS_DIST ?? join(here, '..', 'dist'))
const total = Number(process.env.HOPS_RECORDS ?? 5000)
const rate = Number(process.env.HOPS_RATE ?? 1000)
const MAGIC = Buffer.from('LATH')
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const now = () => performance.now()

// Per record index: the time of each hop (NaN until seen).
const hop = (n) => new Float64Array(n).fill(NaN)
const due = hop(total), sent = hop(total), written = hop(total), acked = hop(total), arrived = hop(total), decoded = hop(total), handled = hop(total)
const fetchOf = new Int32Array(total).fill(-1)
const fetches = [] // { t0, t1, records }
const requests = [] // other requests: { api, t0, t1 }
const gcs = [] // { start, duration, kind }
const stalls = [] // { at, ms }: a 1 ms timer that fired late by more than 3 ms

function scan(buf, into, t, fetchIndex = -1) {
  let n = 0
  for (let p = buf.indexOf(MAGIC, 12); p !== -1; p = buf.indexOf(MAGIC, p + 4)) {
    if (p < 4) continue
    const idx = buf.readUInt32LE(p - 4)
    if (idx < total && Number.isNaN(into[idx])) {
      into[idx] = t
      if (fetchIndex >= 0) fetchOf[idx] = fetchIndex
      n++
    }
  }
  return n
}

// Socket writes: the produce request that carries a record (fetch requests carry no values).
// Also counted: every write and the time spent inside it (the write syscall runs on the event loop's thread).
const write = net.Socket.prototype.write
const socketWrites = []
net.Socket.prototype.write = function (chunk, ...rest) {
  const t0 = now()
  if (Buffer.isBuffer(chunk) && chunk.length > 100) scan(chunk, written, t0)
  const t1 = now()
  const out = write.call(this, chunk, ...rest)
  socketWrites.push({ t: t1, ms: now() - t1 })
  return out
}

// kafkajs's connection in the copy the dist under test loads.
const requireFromDist = createRequire(join(dist, 'index.js'))
const Connection = requireFromDist('kafkajs/src/network/connection.js')
const processData = Connection.prototype.processData
Connection.prototype.processData = function (raw) {
  if (Buffer.isBuffer(raw) && raw.length > 100) scan(raw, arrived, now())
  return processData.call(this, raw)
}
const send = Connection.prototype.send
Connection.prototype.send = async function (protocolRequest) {
  const api = protocolRequest.request.apiName
  const t0 = now()
  const result = await send.call(this, protocolRequest)
  const t1 = now()
  if (api === 'Fetch') {
    const i = fetches.length
    let records = 0
    for (const r of result?.responses ?? []) for (const p of r.partitions) for (const m of p.messages ?? []) if (m.value) records += scan(m.value, decoded, t1, i)
    fetches.push({ t0, t1, records })
  } else requests.push({ api, t0, t1 })
  return result
}

const gcObserver = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcs.push({ start: e.startTime, duration: e.duration, kind: e.detail?.kind ?? e.kind })
})
gcObserver.observe({ entryTypes: ['gc'] })

async function main() {
  let handle = null
  let brokers = process.env.KAFKA_BROKERS?.split(',')
  if (brokers === undefined) {
    const { startKafka } = await import(pathToFileURL(join(dist, 'testing.js')).href)
    handle = await startKafka({ nodes: 1 })
    brokers = handle.brokers
  }
  const { createConsumer, createProducer, serializers } = await import(pathToFileURL(join(dist, 'index.js')).href)
  const kafkajs = requireFromDist('kafkajs')
  const { pino } = await import('pino')
  const logger = pino({ level: 'silent' })
  const topic = `hops-${Date.now()}-${randomBytes(3).toString('hex')}`
  const admin = new kafkajs.Kafka({ brokers, logLevel: kafkajs.logLevel.NOTHING, clientId: 'hops-admin' }).admin()
  await admin.connect()
  await admin.createTopics({ topics: [{ topic, numPartitions: 6, replicationFactor: 1 }], waitForLeaders: true })
  const consumer = createConsumer({ brokers, logger, groupId: `hops-${topic}`, topics: [topic], preset: 'low-latency', autoOffsetReset: 'earliest', valueDeserializer: { name: 'bytes', serialize: (b) => b, deserialize: (b) => b }, ...JSON.parse(process.env.HOPS_CONSUMER ?? '{}') })
  let joined = false
  consumer.on('group-join', () => (joined = true))
  await consumer.connect()
  let received = 0
  await consumer.run({
    eachMessage: async (m) => {
      const t = now()
      const v = m.value
      if (v.length >= 16 && v.subarray(12, 16).equals(MAGIC)) {
        const idx = v.readUInt32LE(8)
        if (Number.isNaN(handled[idx])) {
          handled[idx] = t
          received++
        }
      }
    },
  })
  const producer = createProducer({ brokers, logger, preset: 'low-latency', valueSerializer: serializers.bytes() })
  await producer.connect()
  for (let t = Date.now(); !joined; await sleep(5)) if (Date.now() - t > 30_000) throw new Error('no group join')
  await sleep(1000)

  const loop = monitorEventLoopDelay({ resolution: 1 })
  let last = now()
  const stallTimer = setInterval(() => {
    const t = now()
    if (t - last > 4) stalls.push({ at: last, ms: t - last - 1 })
    last = t
  }, 1)
  loop.enable()
  const loadBefore = loadavg()[0]
  const cpu0 = process.cpuUsage()
  const pool = Array.from({ length: 1024 }, () => randomBytes(100))
  const t0 = now() + 5
  let i = 0
  while (i < total) {
    const t = now()
    while (i < total && t0 + (i * 1000) / rate <= t) {
      const v = Buffer.from(pool[i % pool.length])
      const d = t0 + (i * 1000) / rate
      v.writeDoubleLE(d, 0)
      v.writeUInt32LE(i, 8)
      MAGIC.copy(v, 12)
      due[i] = d
      const idx = i
      sent[idx] = now()
      producer.send({ topic, value: v }).then(() => (acked[idx] = now()), () => undefined)
      i++
    }
    await sleep(1)
  }
  for (let t = Date.now(); received < total; await sleep(5)) if (Date.now() - t > 60_000) throw new Error(`only ${received} of ${total} records arrived`)
  const cpu = process.cpuUsage(cpu0)
  loop.disable()
  clearInterval(stallTimer)
  const loadAfter = loadavg()[0]
  await producer.disconnect()
  await consumer.disconnect()
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined)
  await admin.disconnect()
  await handle?.stop()
  gcObserver.disconnect()
  report({ loop, load: [loadBefore, loadAfter], cpuUsPerRecord: (cpu.user + cpu.system) / total })
}

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]
const f = (x) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a')

function report({ loop, load, cpuUsPerRecord }) {
  const from = Math.floor(total / 10) // as latencySummary: the first 10% are warm-up
  const idx = Array.from({ length: total - from }, (_, k) => k + from)
  const hops = {
    'due -> send()': (i) => sent[i] - due[i],
    'send() -> request written': (i) => written[i] - sent[i],
    'written -> ack': (i) => acked[i] - written[i],
    'written -> fetch bytes read': (i) => arrived[i] - written[i],
    '  of which: waiting for a fetch to be sent': (i) => Math.max(0, fetches[fetchOf[i]]?.t0 - written[i]),
    'bytes read -> fetch decoded': (i) => decoded[i] - arrived[i],
    'decoded -> handler': (i) => handled[i] - decoded[i],
    'due -> handler (end to end)': (i) => handled[i] - due[i],
  }
  const e2e = idx.map((i) => handled[i] - due[i]).sort((a, b) => a - b)
  const p99 = pct(e2e, 99)
  const worst = idx.filter((i) => handled[i] - due[i] >= p99)
  const lines = ['| hop | p50 ms | p90 ms | p99 ms | max ms | median over the records at or above the e2e p99 |', '|---|---:|---:|---:|---:|---:|']
  const out = { load, records: total, p99, cpuUsPerRecord, hops: {} }
  for (const [name, fn] of Object.entries(hops)) {
    const xs = idx.map(fn).filter(Number.isFinite).sort((a, b) => a - b)
    const ws = worst.map(fn).filter(Number.isFinite).sort((a, b) => a - b)
    out.hops[name] = { p50: pct(xs, 50), p90: pct(xs, 90), p99: pct(xs, 99), max: xs.at(-1), worstMedian: pct(ws, 50), seen: xs.length }
    lines.push(`| ${name} | ${f(pct(xs, 50))} | ${f(pct(xs, 90))} | ${f(pct(xs, 99))} | ${f(xs.at(-1))} | ${f(pct(ws, 50))} |`)
  }
  const tStart = due[from]
  const tEnd = Math.max(...idx.map((i) => handled[i]))
  const inWindow = (t) => t >= tStart && t <= tEnd
  const gcIn = gcs.filter((g) => inWindow(g.start))
  const stallIn = stalls.filter((s) => inWindow(s.at))
  const overlaps = (a0, a1, b0, b1) => Math.max(0, Math.min(a1, b1) - Math.max(a0, b0))
  const gcShare = worst.map((i) => gcIn.reduce((s, g) => s + overlaps(due[i], handled[i], g.start, g.start + g.duration), 0)).sort((a, b) => a - b)
  const stallShare = worst.map((i) => stallIn.reduce((s, st) => s + overlaps(due[i], handled[i], st.at, st.at + st.ms + 1), 0)).sort((a, b) => a - b)
  const fetchGaps = []
  for (let k = 1; k < fetches.length; k++) fetchGaps.push(fetches[k].t0 - fetches[k - 1].t1)
  fetchGaps.sort((a, b) => a - b)
  const fetchDur = fetches.map((x) => x.t1 - x.t0).sort((a, b) => a - b)
  const reqCounts = {}
  for (const r of requests) if (inWindow(r.t0)) reqCounts[r.api] = (reqCounts[r.api] ?? 0) + 1
  const extra = [
    `load average (1 min) before/after: ${load.map((l) => l.toFixed(2)).join(' / ')}; records ${total} at ${rate}/s, first 10% left out`,
    `client CPU (producer + consumer + this harness, user + system): ${cpuUsPerRecord.toFixed(0)} µs per record`,
    (() => {
      const w = socketWrites.filter((x) => inWindow(x.t))
      const total = w.reduce((sum, x) => sum + x.ms, 0)
      return `socket writes in the window: ${w.length}, ${f(total)} ms inside socket.write (${f(w.length === 0 ? 0 : (total / w.length) * 1000)} µs each)`
    })(),
    `end to end: p50 ${f(pct(e2e, 50))} ms, p99 ${f(p99)} ms, max ${f(e2e.at(-1))} ms`,
    `event-loop delay (monitorEventLoopDelay, 1 ms resolution): p50 ${f(loop.percentile(50) / 1e6)} ms, p99 ${f(loop.percentile(99) / 1e6)} ms, max ${f(loop.max / 1e6)} ms`,
    `stalls (a 1 ms timer late by > 3 ms) in the window: ${stallIn.length}, total ${f(stallIn.reduce((s, x) => s + x.ms, 0))} ms, longest ${f(Math.max(0, ...stallIn.map((s) => s.ms)))} ms`,
    `GC in the window: ${gcIn.length} pauses, total ${f(gcIn.reduce((s, g) => s + g.duration, 0))} ms, longest ${f(Math.max(0, ...gcIn.map((g) => g.duration)))} ms`,
    `records at or above the p99 (${worst.length}): GC inside their flight median ${f(pct(gcShare, 50))} ms, stalls median ${f(pct(stallShare, 50))} ms`,
    `fetches: ${fetches.length}, duration p50 ${f(pct(fetchDur, 50))} / p99 ${f(pct(fetchDur, 99))} ms; response -> next fetch sent p50 ${f(pct(fetchGaps, 50))} / p99 ${f(pct(fetchGaps, 99))} / max ${f(fetchGaps.at(-1))} ms`,
    `other requests in the window: ${JSON.stringify(reqCounts)}`,
  ]
  out.loop = { p50: loop.percentile(50) / 1e6, p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 }
  out.gc = { count: gcIn.length, total: gcIn.reduce((s, g) => s + g.duration, 0) }
  out.stalls = stallIn
  out.fetchGaps = { p50: pct(fetchGaps, 50), p99: pct(fetchGaps, 99), max: fetchGaps.at(-1) }
  out.worst = worst.map((i) => ({ i, due: due[i], send: sent[i] - due[i], write: written[i] - sent[i], ack: acked[i] - written[i], arrive: arrived[i] - written[i], fetchWait: fetches[fetchOf[i]]?.t0 - written[i], decode: decoded[i] - arrived[i], handler: handled[i] - decoded[i], e2e: handled[i] - due[i] }))
  console.log(`${lines.join('\n')}\n\n${extra.join('\n')}`)
  if (process.env.HOPS_JSON) writeFileSync(process.env.HOPS_JSON, JSON.stringify({ ...out, fetches, requests, gcs }, null, 1))
}

await main()
