import { describe, expect, expectTypeOf, it } from 'vitest'
import { ConsumerEmitter } from '../../src/consumer/events.js'
import { KafkatuneError } from '../../src/errors.js'
import type { Consumer, TopicPartitions } from '../../src/index.js'

describe('consumer events', () => {
  it('emits every event under its short name and as consumer.<name>', () => {
    const emitter = new ConsumerEmitter()
    const seen: string[] = []
    emitter.on('partitions-assigned', (p) => seen.push(`short:${Object.keys(p).join()}`))
    emitter.on('consumer.partitions-assigned', (p) => seen.push(`namespaced:${Object.keys(p).join()}`))
    emitter.emit('partitions-assigned', { orders: [0] })
    expect(seen.sort()).toEqual(['namespaced:orders', 'short:orders'])
  })

  it('an error heard only as consumer.error does not throw, and counts as heard', () => {
    const emitter = new ConsumerEmitter()
    expect(emitter.hearsErrors()).toBe(false)
    const errors: KafkatuneError[] = []
    const off = emitter.on('consumer.error', (e) => errors.push(e))
    expect(emitter.hearsErrors()).toBe(true)
    const err = new KafkatuneError('KAFKA', 'boom')
    expect(() => emitter.emit('error', err)).not.toThrow()
    expect(errors).toEqual([err])
    off()
    expect(emitter.hearsErrors()).toBe(false)
  })

  it('on() returns a function that unsubscribes', () => {
    const emitter = new ConsumerEmitter()
    let calls = 0
    const off = emitter.on('partitions-revoked', () => calls++)
    emitter.emit('partitions-revoked', {})
    off()
    emitter.emit('partitions-revoked', {})
    expect(calls).toBe(1)
  })

  it('types both names with the same payload', () => {
    expectTypeOf<Parameters<Consumer['on']>[0]>().toEqualTypeOf<
      | 'max-poll-interval-exceeded' | 'group-join' | 'partitions-assigned' | 'partitions-revoked' | 'error'
      | 'consumer.max-poll-interval-exceeded' | 'consumer.group-join' | 'consumer.partitions-assigned' | 'consumer.partitions-revoked' | 'consumer.error'
    >()
    const c = {} as Consumer
    expectTypeOf(c.on<'consumer.partitions-assigned'>).parameter(1).toEqualTypeOf<(partitions: TopicPartitions) => void>()
  })
})
