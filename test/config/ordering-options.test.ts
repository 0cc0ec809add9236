/** ordering, concurrency and offsetMetadataMaxBytes: defaults, Java names, validation, pipelines. */
import { describe, expect, it } from 'vitest'
import { explainConfig, resolveConsumerConfig, resolvePipelineConfig } from '../../src/config/index.js'
import { ConfigError } from '../../src/errors.js'

const base = { brokers: ['127.0.0.1:9092'], groupId: 'g', topics: ['t'] }

function problems(fn: () => unknown): { option: string; message: string }[] {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError)
    return [...(err as ConfigError).problems]
  }
  throw new Error('expected a ConfigError')
}

describe('ordering options', () => {
  it("defaults: ordering 'partition', concurrency 16, offsetMetadataMaxBytes 4096, each explained with its Java-side name", () => {
    const s = resolveConsumerConfig(base)
    expect(s).toMatchObject({ ordering: 'partition', concurrency: 16, offsetMetadataMaxBytes: 4096 })
    const rows = Object.fromEntries(explainConfig('consumer', { ...base, ordering: 'key', concurrency: 100 }).map((r) => [r.option, r]))
    expect(rows.ordering).toMatchObject({ value: 'key', source: 'option', javaProperty: 'ParallelConsumerOptions.ordering' })
    expect(rows.concurrency).toMatchObject({ value: 100, source: 'option', javaProperty: 'ParallelConsumerOptions.maxConcurrency' })
    expect(rows.offsetMetadataMaxBytes).toMatchObject({ value: 4096, source: 'default', javaProperty: 'offset.metadata.max.bytes (broker)' })
    expect(rows.offsetMetadataMaxBytes!.reason).toMatch(/offset map/)
  })

  it('rejects bad values and concurrency without an ordering that uses it, all at once', () => {
    const p = problems(() => resolveConsumerConfig({ ...base, ordering: 'random' as 'key', concurrency: 0, offsetMetadataMaxBytes: 10 }))
    expect(p.map((x) => x.option).sort()).toEqual(['concurrency', 'offsetMetadataMaxBytes', 'ordering'])
    const q = problems(() => resolveConsumerConfig({ ...base, concurrency: 50 }))
    expect(q).toEqual([{ option: 'concurrency, ordering', message: expect.stringMatching(/partitionsConsumedConcurrently/) }])
  })

  it('pipelines reject them with the reason', () => {
    const p = problems(() => resolvePipelineConfig({ brokers: ['127.0.0.1:9092'], groupId: 'g', inputTopics: ['t'], consumer: { ordering: 'key' } } as never))
    expect(p.some((x) => x.option === 'consumer.ordering' && /partition order/.test(x.message))).toBe(true)
  })
})
