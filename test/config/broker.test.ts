import { describe, expect, it } from 'vitest'
import { BROKER_SETTINGS } from '../../src/config/index.js'

describe('BROKER_SETTINGS', () => {
  it('covers every broker and topic setting of the tuning notes, each with advice', () => {
    const names = BROKER_SETTINGS.map((s) => s.property)
    for (const p of [
      'num.partitions',
      'min.insync.replicas',
      'message.max.bytes',
      'socket.send.buffer.bytes',
      'socket.receive.buffer.bytes',
      'num.network.threads',
      'num.io.threads',
      'replica.fetch.min.bytes',
      'log.flush.interval.messages',
      'log.flush.interval.ms',
      'retention.ms',
      'segment.bytes',
      'cleanup.policy',
      'log.cleaner.enable',
      'KAFKA_HEAP_OPTS',
    ])
      expect(names).toContain(p)
    expect(new Set(names).size).toBe(names.length)
    for (const s of BROKER_SETTINGS) expect(s.advice.length).toBeGreaterThan(20)
  })
})
