import { createProducer, createConsumer, serializers } from './dist/index.js'
import { pino } from 'pino'
const brokers = [process.env.KAFKA_BROKERS]
const logger = pino({ level: 'warn' })
const show = async (k, f) => { try { const r = await f(); console.log(k, 'OK', r === undefined ? '' : JSON.stringify(r)?.slice(0, 160)) } catch (e) { console.log(`${k}: ${e?.constructor?.name} [${e?.code}] ${e?.message?.split('\n').join(' | ').slice(0, 220)}`) } }
const topic = 'probe-' + Date.now()
const tp = createProducer({ brokers, logger, transactionalId: 'probe-tx-' + Date.now() })
await tp.connect()
let leaked
await show('tx ok', () => tp.transaction(async (tx) => { leaked = tx; await tx.send({ topic, value: 'a' }) }))
await show('tx.send after end', () => leaked.send({ topic, value: 'late' }))
await show('nested tx', () => tp.transaction(async () => tp.transaction(async () => {})))
await show('tx throws', () => tp.transaction(async (tx) => { await tx.send({ topic, value: 'aborted' }); throw new Error('boom') }))
await show('tx after throw ok', () => tp.transaction(async (tx) => { await tx.send({ topic, value: '{"bad json' }) }))
await tp.disconnect()
const c = createConsumer({ brokers, logger, groupId: 'g-' + topic, topics: [topic], autoOffsetReset: 'earliest', isolationLevel: 'read_committed', valueDeserializer: serializers.json(), retry: { attempts: 2, backoffMs: 50 }, deadLetterTopic: topic + '.dlq' })
await c.connect()
const seen = []
await c.run({ eachMessage: async (m) => { seen.push(m.value) } })
await new Promise((r) => setTimeout(r, 4000))
console.log('seen', seen)
await c.disconnect()
const d = createConsumer({ brokers, logger, groupId: 'g2-' + topic, topics: [topic + '.dlq'], autoOffsetReset: 'earliest' })
await d.connect()
await d.run({ eachMessage: async (m) => { console.log('dlq', m.value, Object.fromEntries(Object.entries(m.headers).map(([k, v]) => [k, v?.toString().slice(0, 60)]))) } })
await new Promise((r) => setTimeout(r, 4000))
await d.disconnect()
