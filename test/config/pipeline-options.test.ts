import { describe, expect, it } from 'vitest'
import { ConfigError } from '../../src/errors.js'
import { createPipeline } from '../../src/pipeline/index.js'
import { consumerTuningShape, producerTuningShape } from '../../src/config/schema.js'
import {
  PIPELINE_CONSUMER_APPLIED,
  PIPELINE_CONSUMER_REJECTED,
  PIPELINE_PRODUCER_APPLIED,
  PIPELINE_PRODUCER_REJECTED,
} from '../../src/config/pipeline-options.js'

const base = { brokers: ['127.0.0.1:9092'], groupId: 'g', from: 'in', to: 'out', transactionalIdPrefix: 'tx', transform: () => null }

describe('pipeline options: applied or rejected, never ignored', () => {
  it('every producer and consumer tuning option is in exactly one of the two tables', () => {
    for (const [shape, applied, rejected] of [
      [producerTuningShape, PIPELINE_PRODUCER_APPLIED, PIPELINE_PRODUCER_REJECTED],
      [consumerTuningShape, PIPELINE_CONSUMER_APPLIED, PIPELINE_CONSUMER_REJECTED],
    ] as const) {
      for (const key of Object.keys(shape)) {
        const inApplied = key in applied
        const inRejected = key in rejected
        expect({ key, inOne: inApplied !== inRejected }).toEqual({ key, inOne: true })
      }
      for (const key of [...Object.keys(applied), ...Object.keys(rejected)]) expect(Object.keys(shape)).toContain(key)
    }
  })

  it('rejects each option it cannot apply with the reason, all at once', () => {
    const producer = Object.fromEntries(Object.keys(PIPELINE_PRODUCER_REJECTED).map((k) => [k, 1000]))
    let err: unknown
    try {
      createPipeline({ ...base, producer, consumer: { commit: { strategy: 'per-message' } } } as never)
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(ConfigError)
    const options = (err as ConfigError).problems.map((p) => p.option).sort()
    expect(options).toEqual([...Object.keys(PIPELINE_PRODUCER_REJECTED).map((k) => `producer.${k}`), 'consumer.commit'].sort())
    for (const p of (err as ConfigError).problems) expect(p.message).toMatch(/^not used by a pipeline: .{20,}/)
  })

  it("accepts every applied option, and the presets' own values of rejected ones", () => {
    expect(() =>
      createPipeline({
        ...base,
        preset: 'high-throughput', // sets lingerMs and friends: preset values are not the user's choice
        producer: { partitioner: 'murmur2', batchSize: 65536, compression: 'lz4', retryBackoffMs: 50 },
        consumer: { partitionAssignors: ['sticky'], retry: { attempts: 3, backoffMs: 10 }, deadLetterTopic: 'dlq', maxPollIntervalMs: 60_000 },
      }),
    ).not.toThrow()
  })
})

describe("explainConfig('pipeline')", () => {
  it('shows both sides, prefixed, and says which preset values a pipeline does not use', async () => {
    const { explainConfig } = await import('../../src/index.js')
    const rows = explainConfig('pipeline', { ...base, producer: { compression: 'zstd' }, consumer: { maxPollRecords: 50 } })
    const by = new Map(rows.map((r) => [r.option, r]))
    expect(by.get('producer.compression')).toMatchObject({ value: 'zstd', source: 'option', javaProperty: 'compression.type' })
    expect(by.get('consumer.maxPollRecords')).toMatchObject({ value: 50, source: 'option', javaProperty: 'max.poll.records' })
    expect(by.get('consumer.groupId')).toMatchObject({ value: 'g' })
    expect(by.get('producer.lingerMs')!.reason).toMatch(/^not used by a pipeline/)
    expect(by.get('consumer.commit')!.reason).toMatch(/^not used by a pipeline/)
    expect(() => explainConfig('pipeline', { ...base, producer: { lingerMs: 5 } })).toThrow(ConfigError)
  })
})
