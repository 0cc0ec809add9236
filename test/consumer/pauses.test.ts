import { describe, expect, it } from 'vitest'
import { PauseControl, checkPosition } from '../../src/consumer/pauses.js'
import { isKafkatuneError } from '../../src/errors.js'

function control() {
  const calls: string[] = []
  const pauses = new PauseControl(
    { pause: (tps) => calls.push(`pause ${JSON.stringify(tps)}`), resume: (tps) => calls.push(`resume ${JSON.stringify(tps)}`) },
    () => false,
    () => {},
  )
  return { calls, pauses }
}

describe('pause() and resume() input', () => {
  it.each([
    ['kafkajs shape', [{ topic: 'orders', partitions: [0] }]],
    ['a negative partition', { orders: [-1] }],
    ['a fractional partition', { orders: [0.5] }],
    ['a partition as a string', { orders: ['0'] }],
    ['a topic without a list', { orders: 0 }],
    ['null', null],
  ])('refuses %s with INVALID_PARTITION and changes nothing', (_, input) => {
    const { calls, pauses } = control()
    for (const call of [() => pauses.pauseByUser(input as never), () => pauses.resumeByUser(input as never)]) {
      let err: unknown
      try {
        call()
      } catch (e) {
        err = e
      }
      expect(isKafkatuneError(err, 'INVALID_PARTITION')).toBe(true)
      expect((err as Error).message).toContain('{ orders: [0, 1] }')
    }
    expect(calls).toEqual([])
  })

  it('passes { [topic]: partitions } on as kafkajs takes it', () => {
    const { calls, pauses } = control()
    pauses.pauseByUser({ orders: [0, 2], audit: [] })
    pauses.resumeByUser({ orders: [2] })
    expect(calls).toEqual(['pause [{"topic":"orders","partitions":[0,2]},{"topic":"audit","partitions":[]}]', 'resume [{"topic":"orders","partitions":[2]}]'])
  })
})

describe('seek() input', () => {
  it('takes digits, -1 and -2 as strings, and a safe integer as its string', () => {
    expect(checkPosition({ topic: 't', partition: 0, offset: '42' })).toEqual({ topic: 't', partition: 0, offset: '42' })
    expect(checkPosition({ topic: 't', partition: 3, offset: '-2' }).offset).toBe('-2')
    expect(checkPosition({ topic: 't', partition: 3, offset: '-1' }).offset).toBe('-1')
    expect(checkPosition({ topic: 't', partition: 1, offset: 7 }).offset).toBe('7')
  })

  it.each([
    { topic: '', partition: 0, offset: '1' },
    { topic: 't', partition: -1, offset: '1' },
    { topic: 't', partition: 0, offset: '-3' },
    { topic: 't', partition: 0, offset: 'abc' },
    { topic: 't', partition: 0, offset: 1.5 },
    { topic: 't', partition: 0 },
    null,
  ])('refuses %j with INVALID_PARTITION', (position) => {
    let err: unknown
    try {
      checkPosition(position)
    } catch (e) {
      err = e
    }
    expect(isKafkatuneError(err, 'INVALID_PARTITION')).toBe(true)
  })
})
