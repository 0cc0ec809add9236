/**
 * Liveness and readiness probes over HTTP (`node:http`), for Kubernetes' `livenessProbe` (`/livez`) and
 * `readinessProbe` (`/readyz`): 200 when every client says so, 503 with the reasons otherwise.
 * The service consumes `orders` and writes an audit record per order. An order whose value is `hang` makes its
 * handler hang (a call that never returns, as a stuck database call would): `/livez` fails once that call has
 * run longer than the consuming TTL, so the orchestrator restarts the process.
 * Run: `npm run example -- examples/health-endpoints.ts`, then `curl -i 127.0.0.1:8080/readyz` (uses KAFKA_BROKERS,
 * else starts a local broker; PORT and CONSUME_TTL_MS change the port and the TTL). SIGTERM stops it.
 */
import { randomUUID } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createAdmin, createConsumer, createProducer, loggers } from 'kafkatune'
import type { Health } from 'kafkatune'
import { startKafka } from 'kafkatune/testing'

/** A handler call running longer than this fails liveness (the default is maxPollIntervalMs, 5 minutes). */
const CONSUME_TTL_MS = Number(process.env.CONSUME_TTL_MS ?? 30_000)
const kafka = await startKafka()
const brokers = kafka.brokers
const topic = `orders-${randomUUID().slice(0, 8)}`
const audit = `${topic}.audit`
const logger = loggers.console({ level: 'warn' })

const admin = createAdmin({ brokers, logger })
await admin.ensureTopic({ name: topic, partitions: 1, replicationFactor: 1 })
await admin.ensureTopic({ name: audit, partitions: 1, replicationFactor: 1 })
await admin.disconnect()

const producer = createProducer({ brokers, logger, clientId: 'orders-service' })
const consumer = createConsumer({ brokers, logger, clientId: 'orders-service', groupId: `orders-${randomUUID().slice(0, 8)}`, topics: [topic], autoOffsetReset: 'earliest' })

/** Every client's report: the probe passes when all of them pass. */
function probe(kind: 'live' | 'ready'): { ok: boolean; reasons: string[] } {
  const reports: Record<string, Health> = { consumer: consumer.health({ consumeTtlMs: CONSUME_TTL_MS }), producer: producer.health() }
  const ok = Object.values(reports).every((h) => h[kind])
  return { ok, reasons: Object.entries(reports).flatMap(([client, h]) => h.reasons.map((r) => `${client} ${r}`)) }
}

const server = createServer((req, res) => {
  const kind = req.url === '/livez' ? 'live' : req.url === '/readyz' ? 'ready' : null
  if (kind === null) {
    res.writeHead(404).end()
    return
  }
  const { ok, reasons } = probe(kind)
  res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ status: ok ? 'ok' : 'failing', reasons }))
})
await new Promise<void>((resolve) => server.listen(Number(process.env.PORT ?? 8080), '127.0.0.1', resolve))
console.log(`health on http://127.0.0.1:${(server.address() as AddressInfo).port} (/livez, /readyz)`)

async function shutdown(signal: string): Promise<void> {
  console.log(`${signal}: stopping`)
  server.close()
  // A hung handler never returns: stop() gives up on it after its deadline, and so does this process.
  await consumer.stop({ timeoutMs: 5000 })
  await Promise.race([consumer.disconnect(), new Promise((r) => setTimeout(r, 5000))])
  await producer.disconnect()
  await kafka.stop()
  process.exit(0)
}
process.once('SIGTERM', (s) => void shutdown(s))
process.once('SIGINT', (s) => void shutdown(s))

await producer.connect()
for (let i = 0; i < 20; i++) void producer.send({ topic, key: `order-${i}`, value: `order ${i}` })
await producer.flush()

let processed = 0
await consumer.connect()
await consumer.run({
  eachMessage: async ({ value, offset }) => {
    if (value === 'hang') {
      console.log(`handler hangs on offset ${offset}`)
      await new Promise(() => undefined)
    }
    await producer.send({ topic: audit, key: offset, value: `processed ${value}` })
    if (++processed % 10 === 0) console.log(`processed ${processed}`)
  },
})
console.log(`consuming ${topic}; produce the value 'hang' to it to make /livez fail after ${CONSUME_TTL_MS} ms`)
