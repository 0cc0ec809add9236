import { describe, expect, it } from 'vitest'
import { pino } from 'pino'
import { CompressionTypes } from 'kafkajs'
import {
  kafkajsSendOptions,
  resolveConsumerConfig,
  resolveProducerConfig,
  toKafkajsClientConfig,
  toKafkajsConsumerConfig,
  toKafkajsProducerConfig,
} from '../../src/config/index.js'

const brokers = ['127.0.0.1:9092']
const logger = pino({ level: 'silent' })
const producers = {
  'java-defaults': resolveProducerConfig({ brokers, logger }),
  'low-latency': resolveProducerConfig({ brokers, logger, preset: 'low-latency' }),
  'high-throughput': resolveProducerConfig({ brokers, logger, preset: 'high-throughput' }),
  'exactly-once': resolveProducerConfig({ brokers, logger, preset: 'exactly-once', transactionalId: 'tx-1' }),
}
const consumers = {
  'java-defaults': resolveConsumerConfig({ brokers, logger, groupId: 'g', topics: ['t'] }),
  'low-latency': resolveConsumerConfig({ brokers, logger, groupId: 'g', topics: ['t'], preset: 'low-latency' }),
  'high-throughput': resolveConsumerConfig({ brokers, logger, groupId: 'g', topics: ['t'], preset: 'high-throughput' }),
  'exactly-once': resolveConsumerConfig({ brokers, logger, groupId: 'g', topics: ['t'], preset: 'exactly-once' }),
}

describe('kafkajs mapping (golden)', () => {
  for (const [name, s] of Object.entries(producers)) {
    it(`producer: ${name}`, () => {
      const { createPartitioner: _p, ...producer } = toKafkajsProducerConfig(s)
      const { logCreator: _l, ...client } = toKafkajsClientConfig(s)
      expect({ client, producer, send: kafkajsSendOptions(s) }).toMatchSnapshot()
    })
  }
  for (const [name, s] of Object.entries(consumers)) {
    it(`consumer: ${name}`, () => {
      expect(toKafkajsConsumerConfig(s)).toMatchSnapshot()
    })
  }

  it('maps the facts kafkajs gets wrong by default', () => {
    const eo = toKafkajsProducerConfig(producers['exactly-once'])
    expect(eo.retry?.retries).toBe(Number.MAX_SAFE_INTEGER)
    expect(eo.transactionalId).toBe('tx-1')
    expect(kafkajsSendOptions(producers['exactly-once']).acks).toBe(-1)
    expect(kafkajsSendOptions(producers['high-throughput']).compression).toBe(CompressionTypes.LZ4)
    const c = toKafkajsConsumerConfig(consumers['java-defaults'])
    expect(c.readUncommitted).toBe(true)
    expect(c.rebalanceTimeout).toBe(300_000)
    expect(toKafkajsConsumerConfig(consumers['exactly-once']).readUncommitted).toBe(false)
  })

  it('merges the kafkajs escape hatch last', () => {
    const s = resolveProducerConfig({ brokers, logger, kafkajs: { connectionTimeout: 4242, clientId: 'override' } })
    const c = toKafkajsClientConfig(s)
    expect(c.connectionTimeout).toBe(4242)
    expect(c.clientId).toBe('override')
  })
})
