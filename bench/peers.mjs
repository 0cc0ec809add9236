#!/usr/bin/env node
/**
 * kafkatune against other Kafka clients, one broker, one run, interleaved rounds (the contender order rotates
 * each round): kafkajs 2.2.4 hand-tuned, @platformatic/kafka 1.x, node-rdkafka 3.x (librdkafka) and the Java
 * client (Apache Kafka's ProducerPerformance / ConsumerPerformance / EndToEndLatency). Four sections:
 *  - producer: 100 B and 1 KiB records, lz4 and none, acks 1, 6 partitions, null keys;
 *  - consumer: a fresh group reads one pre-filled topic (100 B, lz4) from the beginning, no-op handler;
 *  - latency: produce -> consume at 1,000 records/s, the `low-latency` knobs, p50/p99;
 *  - eos: kafkatune's and Java's transactional producers (commit every BENCH_TXN_MS, default 100 ms) next to
 *    their high-throughput producers, as a ratio per client (bench/peers/eos.mjs).
 * Every Node contender runs in its own process; the Java tools in their own JVMs.
 *
 *   npm run build && npm --prefix bench install && node bench/peers.mjs
 *   BENCH_ROUNDS=3 BENCH_SCALE=1 KAFKA_BROKERS=127.0.0.1:9092 node bench/peers.mjs
 *   BENCH_SECTIONS=producer BENCH_CONTENDERS=kafkatune,rdkafka,java node bench/peers.mjs
 *   BENCH_SECTIONS=eos BENCH_CONTENDERS=kafkatune,java node bench/peers.mjs   # exactly-once vs high-throughput
 *   BENCH_SECTIONS=producer BENCH_CONTENDERS=kafkatune,kafkatuneFlush node bench/peers.mjs   # each send() awaited vs send-then-flush
 *   BENCH_PROFILE=1 node bench/peers.mjs     # a CPU profile of each kafkatune producer run, in bench/profiles/
 *   BENCH_WARMUP=0 node bench/peers.mjs      # skip the unmeasured runs that warm up the broker's JIT first
 *   node bench/chart.mjs                      # bench/peers-chart.svg from bench/peers-results.json
 *
 * Client CPU of a Node contender is `process.cpuUsage()` over its timed window (librdkafka's threads
 * included: they are threads of the same process); of a Java tool, the whole JVM from /proc (start-up and
 * JIT included). Peak RSS: sampled every 20 ms (Node) or the kernel's VmHWM (Java).
 */
import { execFileSync, spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { PARTITIONS, median } from './peers/common.mjs'
import { eosReport } from './peers/eos.mjs'
import { brokerCpuReader } from './peers/broker-cpu.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const SECTIONS = { producer: './peers/producers.mjs', consumer: './peers/consumers.mjs', latency: './peers/latency.mjs' }
const EXPORTS = { producer: 'producers', consumer: 'consumers', latency: 'latency' }

async function child() {
  const [section, name, json] = process.argv.slice(3)
  const mod = await import(SECTIONS[section])
  const result = await mod[EXPORTS[section]][name](JSON.parse(json))
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`)
  // node-rdkafka's and platformatic's handles can keep the loop alive after a clean close.
  process.exit(0)
}

function runChild(section, name, args, profile) {
  const env = profile ? { ...process.env, ...profile } : process.env
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--child', section, name, JSON.stringify(args)], { stdio: ['ignore', 'pipe', 'pipe'], env })
    let out = ''
    let err = ''
    const killer = setTimeout(() => p.kill('SIGKILL'), 600_000)
    p.stdout.on('data', (c) => (out += c))
    p.stderr.on('data', (c) => (err = (err + c).slice(-3000)))
    p.on('close', (code) => {
      clearTimeout(killer)
      const line = out.split('\n').find((l) => l.startsWith('RESULT '))
      if (code !== 0 || line === undefined) reject(new Error(`${section} ${name} exited ${code}: ${err}`))
      else resolve(JSON.parse(line.slice(7)))
    })
  })
}

/**
 * Creates a topic and polls until every partition has a leader (kafkajs's waitForLeaders can throw
 * UNKNOWN_TOPIC_OR_PARTITION right after creation). Its files go as soon as it is deleted
 * (`file.delete.delay.ms` 0; the broker's default, 60 s, deleted a finished run's hundreds of MB during some
 * later contender's run, on the cores that contender shares with the broker).
 */
async function createTopic(admin, topic, partitions = PARTITIONS) {
  await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1, configEntries: [{ name: 'file.delete.delay.ms', value: '0' }] }], waitForLeaders: false })
  for (let i = 0; i < 200; i++) {
    try {
      const md = await admin.fetchTopicMetadata({ topics: [topic] })
      const parts = md.topics[0]?.partitions ?? []
      if (parts.length === partitions && parts.every((p) => p.leader >= 0)) return
    } catch {
      // not there yet
    }
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`topic ${topic} has no leaders after 10 s`)
}

/** node-rdkafka is an optional dependency (its native build can fail); Java needs a JDK/JRE 17+. Missing ones are left out, said once. */
function available(name) {
  try {
    if (name === 'rdkafka') createRequire(import.meta.url)('node-rdkafka')
    if (name === 'java') execFileSync(process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java', ['-version'], { stdio: 'ignore' })
    return true
  } catch (err) {
    console.log(`leaving ${name} out: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`)
    return false
  }
}

const fmt = (x, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a')

/** Rows of one throughput table: medians per client, per-round ratios of kafkatune to it. */
export function throughputRows(results, label, names, javaStartupCpu = NaN) {
  const tune = results.filter((r) => r.label === label && r.client === 'kafkatune')
  const tuneCpu = median(tune.map((r) => (r.cpuSeconds / r.records) * 1e6))
  return names.map((client) => {
    const rs = results.filter((r) => r.label === label && r.client === client)
    const rates = rs.map((r) => r.records / r.seconds)
    const paired = rs.map((r) => {
      const t = tune.find((x) => x.round === r.round)
      return t === undefined ? NaN : t.records / t.seconds / (r.records / r.seconds)
    })
    const cpu = median(rs.map((r) => (r.cpuSeconds / r.records) * 1e6))
    const cpuNet = client === 'java' ? median(rs.map((r) => ((r.cpuSeconds - javaStartupCpu) / r.records) * 1e6)) : NaN
    const brokerCpu = median(rs.map((r) => ((r.brokerCpuSeconds ?? NaN) / r.records) * 1e6))
    return { label, client, cpuNet, brokerCpu, rounds: rs.length, rate: median(rates), min: Math.min(...rates), max: Math.max(...rates), ratio: median(paired), paired, cpu, cpuRatio: tuneCpu / cpu, rss: median(rs.map((r) => r.peakRssMb)), records: rs[0]?.records }
  })
}

function throughputTable(rows, what) {
  const broker = rows.some((r) => Number.isFinite(r.brokerCpu))
  const lines = [`| ${what} | client | records | records/s (min-max) | kafkatune vs client, records/s (per-round) | client CPU s / 1M records | kafkatune CPU / client CPU | peak RSS MB |${broker ? ' broker CPU s / 1M records |' : ''}`, `|---|---|---:|---:|---:|---:|---:|---:|${broker ? '---:|' : ''}`]
  for (const r of rows) {
    const ratio = r.client === 'kafkatune' ? '1.00x' : `${fmt(r.ratio, 2)}x (${r.paired.map((x) => fmt(x, 2)).join(', ')})`
    lines.push(`| ${r.label} | ${r.client} | ${r.records ?? 'n/a'} | ${fmt(r.rate)} (${fmt(r.min)}-${fmt(r.max)}) | ${ratio} | ${fmt(r.cpu, 2)}${Number.isFinite(r.cpuNet) ? ` (${fmt(r.cpuNet, 2)} net of JVM start-up)` : ''} | ${fmt(r.cpuRatio, 2)} | ${fmt(r.rss)} |${broker ? ` ${fmt(r.brokerCpu, 2)} |` : ''}`)
  }
  return lines.join('\n')
}

async function main() {
  const scale = Number(process.env.BENCH_SCALE ?? 1)
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3)
  const javaFactor = Number(process.env.BENCH_JAVA_FACTOR ?? 5)
  const names = (process.env.BENCH_CONTENDERS ?? 'kafkatune,kafkajs,platformatic,rdkafka,java').split(',').filter(available)
  const sections = (process.env.BENCH_SECTIONS ?? 'producer,consumer,latency,eos').split(',')
  const profileDir = process.env.BENCH_PROFILE ? join(here, 'profiles') : null
  if (profileDir !== null) mkdirSync(profileDir, { recursive: true })
  const java = names.includes('java') ? await import('./peers/java.mjs') : null
  const { default: kafkajs } = await import('kafkajs')
  let handle = null
  let brokers = process.env.KAFKA_BROKERS?.split(',')
  if (brokers === undefined) {
    const { startKafka } = await import('../dist/testing.js')
    handle = await startKafka({ nodes: 1 })
    brokers = handle.brokers
  }
  const admin = new kafkajs.Kafka({ brokers, logLevel: kafkajs.logLevel.NOTHING, clientId: 'bench-admin' }).admin()
  await admin.connect()
  // The broker's CPU over each contender's run (a local broker only): what that client's requests cost it.
  const brokerCpu = brokerCpuReader(brokers)
  const withBrokerCpu = async (run) => {
    const before = brokerCpu?.() ?? NaN
    const r = await run()
    return { ...r, brokerCpuSeconds: (brokerCpu?.() ?? NaN) - before }
  }
  const started = new Date()
  const out = { started: started.toISOString(), node: process.version, rounds, scale, javaFactor, names, producer: [], consumer: [], latency: [] }
  // The machine is shared: the 1-minute load average, sampled every 10 s, goes next to the numbers.
  const loads = [loadavg()[0]]
  const loadTimer = setInterval(() => loads.push(loadavg()[0]), 10_000)
  const order = (round) => names.map((_, i) => names[(i + round) % names.length])
  let seq = 0
  // A deleted topic's files go right away (createTopic); the next contender starts after that.
  const drop = async (topic) => {
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined)
    await new Promise((r) => setTimeout(r, 1000))
  }
  const fresh = async (prefix, partitions) => {
    const topic = `${prefix}-${Date.now()}-${seq++}`
    await createTopic(admin, topic, partitions)
    return topic
  }
  const log = (s, r, extra = '') => console.log(`${s.padEnd(32)} ${fmt(r.records / r.seconds).padStart(8)} rec/s  cpu ${fmt((r.cpuSeconds / r.records) * 1e6, 2).padStart(6)} s/M  rss ${fmt(r.peakRssMb)} MB${Number.isFinite(r.brokerCpuSeconds) ? `  broker cpu ${fmt((r.brokerCpuSeconds / r.records) * 1e6, 2)} s/M` : ''}${extra}`)
  try {
    if (java !== null) {
      // What a JVM costs before its first record: a 1-record ProducerPerformance run (start, class loading, metadata, one send).
      const topic = await fresh('peers-java-startup')
      out.javaStartup = await java.javaProducer({ brokers, topic, bytes: 100, count: 1, compression: 'lz4' })
      console.log(`java start-up: ${fmt(out.javaStartup.cpuSeconds, 2)} CPU s, ${fmt(out.javaStartup.peakRssMb)} MB`)
      await drop(topic)
    }
    if (process.env.BENCH_WARMUP !== '0') {
      // A broker's own JIT warms up over its first few hundred thousand records: without this, the first
      // contender of round 1 measured up to 4x the broker CPU per record of later runs. Not measured.
      for (const [bytes, compression] of [[100, 'lz4'], [100, 'none'], [1024, 'lz4'], [1024, 'none']]) {
        const topic = await fresh('peers-warmup')
        await runChild('producer', 'kafkatune', { brokers, topic, bytes, count: 200_000, compression }, null)
        await drop(topic)
      }
      console.log('broker warmed up (4 unmeasured producer runs)')
    }
    if (sections.includes('producer')) {
      const configs = [
        { size: '100 B', bytes: 100, count: Math.round(200_000 * scale) },
        { size: '1 KiB', bytes: 1024, count: Math.round(100_000 * scale) },
      ].flatMap((s) => ['lz4', 'none'].map((compression) => ({ ...s, compression, label: `${s.size} ${compression}` })))
      for (let round = 0; round < rounds; round++) {
        for (const cfg of configs) {
          for (const client of order(round)) {
            const topic = await fresh(`peers-${client}`)
            const args = { brokers, topic, bytes: cfg.bytes, count: client === 'java' ? cfg.count * javaFactor : cfg.count, compression: cfg.compression }
            const profile = client === 'kafkatune' && profileDir !== null ? { BENCH_PROFILE_DIR: profileDir, BENCH_PROFILE_NAME: `kafkatune-${cfg.bytes}-${cfg.compression}-r${round + 1}` } : null
            const r = await withBrokerCpu(() => (client === 'java' ? java.javaProducer(args) : runChild('producer', client, args, profile)))
            out.producer.push({ ...r, label: cfg.label, client, round })
            log(`producer r${round + 1} ${cfg.label} ${client}`, r)
            await drop(topic)
          }
        }
      }
    }
    if (sections.includes('eos')) {
      const { runEosSection } = await import('./peers/eos.mjs')
      out.eos = await runEosSection({ brokers, rounds, scale, javaFactor, java, runChild, fresh, drop, log })
    }
    if (sections.includes('consumer')) {
      const count = Math.round(Number(process.env.BENCH_CONSUMER_RECORDS ?? 500_000) * scale)
      // One topic, filled once by kafkatune's `high-throughput` producer (lz4, batches up to 128 KiB); every contender reads all of it.
      const topic = await fresh('peers-consume')
      await runChild('producer', 'kafkatune', { brokers, topic, bytes: 100, count, compression: 'lz4' }, null)
      const total = count + 1 // the producer's warm-up record
      for (let round = 0; round < rounds; round++) {
        for (const client of order(round)) {
          const args = { brokers, topic, count: total }
          const r = await withBrokerCpu(() => (client === 'java' ? java.javaConsumer(args) : runChild('consumer', client, args, null)))
          out.consumer.push({ ...r, label: '100 B lz4', client, round })
          log(`consumer r${round + 1} ${client}`, r)
        }
      }
      await drop(topic)
    }
    if (sections.includes('latency')) {
      const rate = 1000
      const total = Math.max(3000, Math.round(10_000 * scale))
      for (let round = 0; round < rounds; round++) {
        for (const client of order(round)) {
          // EndToEndLatency works on one partition and creates the topic itself if it is missing.
          const topic = client === 'java' ? await fresh('peers-e2e-java', 1) : await fresh(`peers-e2e-${client}`)
          const r = client === 'java' ? await java.javaLatency({ brokers, topic, bytes: 100, total }) : await runChild('latency', client, { brokers, topic, bytes: 100, rate, total }, null)
          out.latency.push({ ...r, client, round })
          console.log(`latency  r${round + 1} ${client.padEnd(12)} p50 ${fmt(r.p50, 2)} ms  p99 ${fmt(r.p99, 2)} ms`)
          await drop(topic)
        }
      }
    }
  } finally {
    clearInterval(loadTimer)
    out.load = { min: Math.min(...loads), median: median(loads), max: Math.max(...loads) }
    await admin.disconnect()
    await handle?.stop()
  }
  const file = process.env.BENCH_OUT ?? join(here, 'peers-results.json')
  writeFileSync(file, `${JSON.stringify(out, null, 1)}\n`)
  console.log(`\n${report(out)}\n\nresults: ${file}`)
}

/** Markdown tables of one run (also what bench/chart.mjs draws). */
export function report(out) {
  const parts = [`Run ${out.started}, Node ${out.node}, ${out.rounds} interleaved rounds, BENCH_SCALE ${out.scale}, ${out.load ? `load average (1 min) ${fmt(out.load.min, 1)}-${fmt(out.load.max, 1)}, median ${fmt(out.load.median, 1)} on ${cpus().length} CPUs, ` : ''}Java producer runs ${out.javaFactor}x the records${out.javaStartup ? ` (a JVM's start-up, one 1-record ProducerPerformance run: ${fmt(out.javaStartup.cpuSeconds, 2)} CPU s, ${fmt(out.javaStartup.peakRssMb)} MB)` : ''}; medians. "per-round" ratios pair kafkatune with the client in the same round (same background load).`]
  const labels = [...new Set(out.producer.map((r) => r.label))]
  if (labels.length > 0) parts.push(`Producer (acks 1, 6 partitions, null keys):\n\n${throughputTable(labels.flatMap((l) => throughputRows(out.producer, l, out.names, out.javaStartup?.cpuSeconds)), 'records, codec')}`)
  if (out.consumer.length > 0) parts.push(`Consumer (fresh group from the beginning, no-op handler, group assignment to last record):\n\n${throughputTable(throughputRows(out.consumer, '100 B lz4', out.names, out.javaStartup?.cpuSeconds), 'records, codec')}`)
  if (out.latency.length > 0) {
    const tune = median(out.latency.filter((r) => r.client === 'kafkatune').map((r) => r.p99))
    const lines = ['| client | records per round | p50 ms | p99 ms (per round) | kafkatune p99 / client p99 |', '|---|---:|---:|---:|---:|']
    for (const client of out.names) {
      const rs = out.latency.filter((r) => r.client === client)
      const p99 = median(rs.map((r) => r.p99))
      lines.push(`| ${client} | ${rs[0]?.records ?? 'n/a'} | ${fmt(median(rs.map((r) => r.p50)), 2)} | ${fmt(p99, 2)} (${rs.map((r) => fmt(r.p99, 2)).join(', ')}) | ${fmt(tune / p99, 2)} |`)
    }
    parts.push(`End-to-end latency (produce -> consume, 100 B, 1,000 records/s open loop; Java: EndToEndLatency, closed loop):\n\n${lines.join('\n')}`)
  }
  if (out.eos !== undefined && out.eos.length > 0) parts.push(eosReport(out.eos))
  return parts.join('\n\n')
}

if (process.argv[2] === '--child') await child()
else if (process.argv[1] === fileURLToPath(import.meta.url)) await main()
