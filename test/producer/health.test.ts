import { describe, expect, it } from 'vitest'
import { KafkatuneError } from '../../src/errors.js'
import { producerHealth } from '../../src/producer/health.js'
import type { ProducerHealthInputs } from '../../src/producer/health.js'

const base: ProducerHealthInputs = { state: 'connected', fenced: null, bufferInUse: 0, bufferMemory: 1000, blocked: false, lastRequestError: null }

describe('producerHealth', () => {
  it('connected with room in the buffer: live and ready', () => {
    expect(producerHealth(base)).toMatchObject({ live: true, ready: true, reasons: [] })
  })

  it('not connected yet: live, not ready; disconnected or fenced: not live', () => {
    expect(producerHealth({ ...base, state: 'new' })).toMatchObject({ live: true, ready: false, reasons: ['state: not connected'] })
    expect(producerHealth({ ...base, state: 'connecting' })).toMatchObject({ live: true, ready: false })
    expect(producerHealth({ ...base, state: 'closed' })).toMatchObject({ live: false, ready: false, reasons: ['state: disconnected'] })
    const fenced = new KafkatuneError('FENCED', 'producer tx-1 was fenced by a newer instance', { retriable: false })
    expect(producerHealth({ ...base, fenced })).toMatchObject({ live: false, reasons: ['state: fenced: producer tx-1 was fenced by a newer instance'] })
  })

  it('buffer pressure: blocked sends or at least bufferReadyRatio in use make it not ready', () => {
    expect(producerHealth({ ...base, bufferInUse: 899 }).ready).toBe(true)
    expect(producerHealth({ ...base, bufferInUse: 900 })).toMatchObject({ live: true, ready: false, reasons: ['buffer: 900 of bufferMemory 1000 bytes in use, at or above 90%'] })
    expect(producerHealth({ ...base, bufferInUse: 500 }, { bufferReadyRatio: 0.5 }).ready).toBe(false)
    expect(producerHealth({ ...base, bufferInUse: 10, blocked: true }).reasons).toEqual(['buffer: send() waits for buffer space: 10 of bufferMemory 1000 bytes in use'])
  })

  it('a failed last produce request makes it not ready until one succeeds', () => {
    const err = new KafkatuneError('KAFKA', 'Connection error: connect ECONNREFUSED 127.0.0.1:9092')
    const h = producerHealth({ ...base, lastRequestError: err })
    expect(h).toMatchObject({ live: true, ready: false })
    expect(h.reasons[0]).toMatch(/^requests: last produce request failed .*ECONNREFUSED/)
  })
})
