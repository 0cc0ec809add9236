import { describe, expect, it } from 'vitest'
import { createAdmin } from '../../src/admin/index.js'
import { isKafkatuneError } from '../../src/errors.js'
import { brokers, uniqueName } from '../helpers/kafka.js'
import { produce, quietLogger } from '../fixtures/consumer-helpers.js'
import { testKafka } from '../helpers/kafka.js'

describe('createAdmin', () => {
  it('ensureTopic is idempotent, applies configs and grows partitions; describeTopic reports them', async () => {
    const admin = createAdmin({ brokers: brokers(), logger: quietLogger() })
    const name = uniqueName('adm')
    try {
      expect(await admin.ensureTopic({ name, partitions: 2, replicationFactor: 1, config: { 'retention.ms': '3600000' } })).toEqual({ created: true })
      expect(await admin.ensureTopic({ name, partitions: 2, replicationFactor: 1 })).toEqual({ created: false })
      let d = await admin.describeTopic(name)
      expect(d.partitions.map((p) => p.partition)).toEqual([0, 1])
      expect(d.partitions.every((p) => p.leader >= 0 && p.isr.length === 1)).toBe(true)
      expect(d.config['retention.ms']).toBe('3600000')
      await admin.ensureTopic({ name, partitions: 3, replicationFactor: 1 })
      d = await admin.describeTopic(name)
      expect(d.partitions).toHaveLength(3)
    } finally {
      await admin.disconnect()
    }
  })

  it("ensureTopic with a preset applies its topic tuning, explicit values win", async () => {
    const admin = createAdmin({ brokers: brokers(), logger: quietLogger() })
    const name = uniqueName('adm-preset')
    try {
      await admin.ensureTopic({ name, preset: 'high-throughput', replicationFactor: 1, config: { 'cleanup.policy': 'compact' } })
      const d = await admin.describeTopic(name)
      expect(d.partitions).toHaveLength(6)
      expect(d.config['cleanup.policy']).toBe('compact')
      const err = await admin.ensureTopic({ name: uniqueName('x'), preset: 'nope' as never }).then(() => null, (e: unknown) => e)
      expect(isKafkatuneError(err, 'CONFIG_INVALID')).toBe(true)
    } finally {
      await admin.disconnect()
    }
  })

  it('lag() is the distance from the committed offset (or the log start) to the high watermark', async () => {
    const admin = createAdmin({ brokers: brokers(), logger: quietLogger() })
    const topic = uniqueName('adm-lag')
    const groupId = uniqueName('g')
    try {
      await admin.ensureTopic({ name: topic, partitions: 2, replicationFactor: 1 })
      await produce(topic, Array.from({ length: 10 }, (_, i) => ({ value: `v${i}`, partition: i % 2 })))
      let lag = await admin.lag({ groupId, topic })
      expect(lag.total).toBe(10)
      expect(lag.partitions.map((p) => p.committed)).toEqual([null, null])
      const k = testKafka().admin()
      await k.connect()
      await k.setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: '3' }] })
      await k.disconnect()
      lag = await admin.lag({ groupId, topic })
      expect(lag.partitions[0]).toMatchObject({ partition: 0, committed: '3', high: '5', lag: 2 })
      expect(lag.total).toBe(7)
    } finally {
      await admin.disconnect()
    }
  })
})
