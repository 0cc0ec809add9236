/**
 * The Java client as a peer: Apache Kafka's own ProducerPerformance, ConsumerPerformance and EndToEndLatency
 * (org.apache.kafka:kafka-tools, the jars kafkatune's local broker already uses), run as child JVMs against
 * the same broker. Records/s come from the tools' own summaries; client CPU (user + system of every JVM
 * thread, JVM start and JIT included) and peak RSS (VmHWM) from /proc of the java process.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { HT, HT_FETCH, LL_FETCH, payloads, runMeasured } from './common.mjs'
import { parseConsumerPerformance, parseEndToEndLatency, parseProducerPerformance } from './parse.mjs'

/** The JVM flags of Kafka's perf-test scripts (KAFKA_HEAP_OPTS -Xmx512M, G1). */
const JVM = ['-Xmx512m', '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20', '-Djava.awt.headless=true']

function java() {
  const home = process.env.JAVA_HOME
  return home && existsSync(join(home, 'bin', 'java')) ? join(home, 'bin', 'java') : 'java'
}

async function classpath() {
  const { ensureKafkaJars } = await import('../../dist/testing.js')
  return `${await ensureKafkaJars()}/*`
}

const work = mkdtempSync(join(tmpdir(), 'kafkatune-bench-java-'))
process.on('exit', () => rmSync(work, { recursive: true, force: true }))
const payloadFiles = new Map()

/** The same kind of payload pool the Node contenders use, one value per line (base64 text has no newline). */
function payloadFile(bytes) {
  if (!payloadFiles.has(bytes)) {
    const file = join(work, `payloads-${bytes}.txt`)
    writeFileSync(file, payloads(bytes).map((b) => b.toString('latin1')).join('\n'))
    payloadFiles.set(bytes, file)
  }
  return payloadFiles.get(bytes)
}

/** ProducerPerformance with the `high-throughput` producer knobs. */
export async function javaProducer({ brokers, topic, bytes, count, compression }) {
  const props = [
    `bootstrap.servers=${brokers.join(',')}`,
    `acks=${HT.acks}`,
    `linger.ms=${HT.lingerMs}`,
    `batch.size=${HT.batchSize}`,
    `buffer.memory=${HT.bufferMemory}`,
    `compression.type=${compression}`,
    'enable.idempotence=false',
  ]
  const args = [...JVM, '-cp', await classpath(), 'org.apache.kafka.tools.ProducerPerformance', '--topic', topic, '--num-records', String(count), '--throughput', '-1', '--payload-file', payloadFile(bytes), '--producer-props', ...props]
  const run = await runMeasured(java(), args)
  const { records, seconds } = parseProducerPerformance(run.stdout)
  return { records, seconds, cpuSeconds: run.cpuSeconds, peakRssMb: run.peakRssMb, wallSeconds: run.wallSeconds }
}

/**
 * ProducerPerformance as a transactional producer with the `exactly-once` preset's knobs (the Java client's
 * defaults: acks all, idempotence, linger 5 ms, 16 KiB batches, no compression), committing every `txnMs`
 * (`--transaction-duration-ms`; the tool's own default is 3000 ms).
 */
export async function javaProducerEos({ brokers, topic, bytes, count, txnMs }) {
  const props = [`bootstrap.servers=${brokers.join(',')}`, 'acks=all', 'enable.idempotence=true', 'linger.ms=5', 'batch.size=16384', 'compression.type=none']
  const args = [...JVM, '-cp', await classpath(), 'org.apache.kafka.tools.ProducerPerformance', '--topic', topic, '--num-records', String(count), '--throughput', '-1', '--payload-file', payloadFile(bytes), '--transactional-id', `bench-peers-java-eos-${Date.now()}`, '--transaction-duration-ms', String(txnMs), '--producer-props', ...props]
  const run = await runMeasured(java(), args)
  const { records, seconds } = parseProducerPerformance(run.stdout)
  return { records, seconds, cpuSeconds: run.cpuSeconds, peakRssMb: run.peakRssMb, wallSeconds: run.wallSeconds }
}

/** ConsumerPerformance with the `high-throughput` fetch knobs; its fetch.* columns leave the group join out. */
export async function javaConsumer({ brokers, topic, count }) {
  const config = join(work, `consumer-${Date.now()}.properties`)
  writeFileSync(config, [`fetch.min.bytes=${HT_FETCH.minBytes}`, `fetch.max.wait.ms=${HT_FETCH.maxWaitMs}`, `max.poll.records=${HT_FETCH.maxPollRecords}`, 'auto.offset.reset=earliest', ''].join('\n'))
  const group = `bench-peers-java-${Date.now()}`
  const args = [...JVM, '-cp', await classpath(), 'org.apache.kafka.tools.ConsumerPerformance', '--bootstrap-server', brokers.join(','), '--topic', topic, '--messages', String(count), '--group', group, '--fetch-size', String(HT_FETCH.maxPartitionBytes), '--consumer.config', config, '--timeout', '60000']
  const run = await runMeasured(java(), args)
  const { records, seconds, rebalanceMs } = parseConsumerPerformance(run.stdout)
  return { records, seconds, cpuSeconds: run.cpuSeconds, peakRssMb: run.peakRssMb, rebalanceMs }
}

/**
 * EndToEndLatency: closed loop (send one record, poll until it is back, repeat), so its rate is whatever one
 * round trip allows rather than a fixed offer; acks 1, the `low-latency` fetch knobs.
 */
export async function javaLatency({ brokers, topic, bytes, total }) {
  const config = join(work, `e2e-${Date.now()}.properties`)
  writeFileSync(config, [`fetch.min.bytes=${LL_FETCH.minBytes}`, `fetch.max.wait.ms=${LL_FETCH.maxWaitMs}`, 'linger.ms=0', ''].join('\n'))
  const args = [...JVM, '-cp', await classpath(), 'org.apache.kafka.tools.EndToEndLatency', brokers.join(','), topic, String(total), '1', String(bytes), config]
  const run = await runMeasured(java(), args)
  return { records: total, ...parseEndToEndLatency(run.stdout), max: NaN, seconds: run.wallSeconds }
}
