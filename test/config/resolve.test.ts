import { describe, expect, it } from 'vitest'
import { pino } from 'pino'
import { ConfigError, KafkatuneError } from '../../src/errors.js'
import {
  definePreset,
  explainConfig,
  resolveConsumerConfig,
  resolvePipelineConfig,
  resolveProducerConfig,
  PRODUCER_DEFAULTS,
} from '../../src/config/index.js'
import { presets } from '../../presets/index.js'
import { serializers } from '../../src/serde/index.js'

const brokers = ['127.0.0.1:9092']
const silent = pino({ level: 'silent' })

function problemsOf(fn: () => unknown): { option: string; message: string }[] {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError)
    expect(err).toBeInstanceOf(KafkatuneError)
    expect((err as ConfigError).code).toBe('CONFIG_INVALID')
    return [...(err as ConfigError).problems]
  }
  throw new Error('expected a ConfigError')
}

describe('producer resolution', () => {
  it('uses the Java client defaults when no preset is given', () => {
    const s = resolveProducerConfig({ brokers })
    expect(s.acks).toBe('all')
    expect(s.idempotent).toBe(true)
    expect(s.lingerMs).toBe(5)
    expect(s.batchSize).toBe(16_384)
    expect(s.bufferMemory).toBe(33_554_432)
    expect(s.compression).toBe('none')
    expect(s.deliveryTimeoutMs).toBe(120_000)
    expect(s.presetName).toBeNull()
    expect(Object.values(s.sources).every((x) => x === 'default')).toBe(true)
  })

  it('applies Kafka defaults < preset < explicit options', () => {
    const s = resolveProducerConfig({ brokers, preset: 'high-throughput', lingerMs: 50 })
    expect(s.lingerMs).toBe(50)
    expect(s.sources.lingerMs).toBe('option')
    expect(s.batchSize).toBe(presets['high-throughput'].producer.batchSize)
    expect(s.sources.batchSize).toBe('preset')
    expect(s.requestTimeoutMs).toBe(PRODUCER_DEFAULTS.requestTimeoutMs)
    expect(s.sources.requestTimeoutMs).toBe('default')
  })

  it('returns frozen settings', () => {
    const s = resolveProducerConfig({ brokers, preset: 'low-latency' })
    expect(Object.isFrozen(s)).toBe(true)
    expect(Object.isFrozen(s.brokers)).toBe(true)
    expect(() => {
      ;(s as { lingerMs: number }).lingerMs = 99
    }).toThrow(TypeError)
  })

  it('turns default idempotence off when acks is not all, like the Java client', () => {
    const s = resolveProducerConfig({ brokers, acks: 1 })
    expect(s.idempotent).toBe(false)
    const row = explainConfig('producer', { brokers, acks: 1 }).find((r) => r.option === 'idempotent')
    expect(row?.reason).toMatch(/acks is 1/)
  })

  it('reports every problem at once, each naming the options involved', () => {
    const problems = problemsOf(() =>
      resolveProducerConfig({
        brokers,
        idempotent: true,
        acks: 1,
        retries: 0,
        maxInFlightRequests: 6,
        lingerMs: -1,
        batchSize: 1.5,
      }),
    )
    const options = problems.map((p) => p.option)
    expect(options).toEqual(
      expect.arrayContaining(['idempotent, acks', 'idempotent, retries', 'idempotent, maxInFlightRequests', 'lingerMs', 'batchSize']),
    )
    expect(problems.find((p) => p.option === 'idempotent, acks')?.message).toMatch(/acks: 'all'/)
  })

  it('needs idempotence for a transactionalId', () => {
    const problems = problemsOf(() => resolveProducerConfig({ brokers, transactionalId: 'tx', idempotent: false }))
    expect(problems.map((p) => p.option)).toContain('transactionalId, idempotent')
  })

  it("needs a transactionalId for 'exactly-once' at run time too", () => {
    const opts = { brokers, preset: 'exactly-once' } as unknown as Parameters<typeof resolveProducerConfig>[0]
    const problems = problemsOf(() => resolveProducerConfig(opts))
    expect(problems.map((p) => p.option)).toContain('transactionalId, preset')
    const s = resolveProducerConfig({ brokers, preset: 'exactly-once', transactionalId: 'orders-1' })
    expect(s.transactionalId).toBe('orders-1')
    expect(s.idempotent).toBe(true)
  })

  it('rejects unknown option names with typo help, including Java property names', () => {
    const opts = { brokers, lingerMS: 5, 'batch.size': 10, compresion: 'lz4' } as unknown as Parameters<typeof resolveProducerConfig>[0]
    const problems = problemsOf(() => resolveProducerConfig(opts))
    const msg = (o: string) => problems.find((p) => p.option === o)?.message
    expect(msg('lingerMS')).toMatch(/did you mean 'lingerMs'/)
    expect(msg('batch.size')).toMatch(/did you mean 'batchSize'/)
    expect(msg('compresion')).toMatch(/did you mean 'compression'/)
  })

  it('checks deliveryTimeoutMs against linger + request timeout, and brokers', () => {
    const problems = problemsOf(() =>
      resolveProducerConfig({ brokers: ['nohostport'], deliveryTimeoutMs: 1000, requestTimeoutMs: 30_000 }),
    )
    expect(problems.map((p) => p.option)).toEqual(expect.arrayContaining(['brokers.0', 'deliveryTimeoutMs, lingerMs, requestTimeoutMs']))
  })

  it('keeps custom serializers and partitioner functions', () => {
    const partitioner = () => 0
    const s = resolveProducerConfig<string, { a: number }>({ brokers, valueSerializer: serializers.json(), partitioner, logger: silent })
    expect(s.partitioner).toBe(partitioner)
    expect(s.valueSerializer.name).toBe('json')
    expect(s.logger).toBe(silent)
  })
})

describe('consumer resolution', () => {
  const base = { brokers, groupId: 'g', topics: ['t'], logger: silent }

  it('uses Java defaults, and the preset over them', () => {
    const d = resolveConsumerConfig(base)
    expect(d.sessionTimeoutMs).toBe(45_000)
    expect(d.heartbeatIntervalMs).toBe(3_000)
    expect(d.maxPollRecords).toBe(500)
    expect(d.maxPollIntervalMs).toBe(300_000)
    expect(d.commit).toEqual({ strategy: 'auto', intervalMs: 5_000 })
    const ll = resolveConsumerConfig({ ...base, preset: 'low-latency' })
    expect(ll.commit.strategy).toBe('hybrid')
    expect(ll.sources.commit).toBe('preset')
    const eo = resolveConsumerConfig({ ...base, preset: 'exactly-once' })
    expect(eo.isolationLevel).toBe('read_committed')
    expect(eo.commit).toEqual({ strategy: 'hybrid', size: 100, intervalMs: 1000 })
  })

  it('reports all timing and fetch problems at once', () => {
    const problems = problemsOf(() =>
      resolveConsumerConfig({
        ...base,
        heartbeatIntervalMs: 10_000,
        sessionTimeoutMs: 6_000,
        maxPollIntervalMs: 5_000,
        fetchMinBytes: 10_000,
        fetchMaxBytes: 1_000,
        maxPartitionFetchBytes: 2_000,
      }),
    )
    expect(problems.map((p) => p.option)).toEqual(
      expect.arrayContaining([
        'heartbeatIntervalMs, sessionTimeoutMs',
        'maxPollIntervalMs, sessionTimeoutMs',
        'fetchMinBytes, fetchMaxBytes',
        'maxPartitionFetchBytes, fetchMaxBytes',
      ]),
    )
  })

  it('warns when heartbeat is above a third of the session timeout', () => {
    const lines: string[] = []
    const logger = pino({ level: 'warn' }, { write: (l: string) => lines.push(l) })
    resolveConsumerConfig({ ...base, logger, heartbeatIntervalMs: 4_000, sessionTimeoutMs: 10_000 })
    expect(lines.join('')).toMatch(/above a third of sessionTimeoutMs/)
  })

  it("rejects 'cooperative-sticky' and points to 'sticky'", () => {
    const problems = problemsOf(() => resolveConsumerConfig({ ...base, partitionAssignors: ['cooperative-sticky'] }))
    expect(problems[0]?.message).toMatch(/'sticky'/)
  })

  it('validates commit strategies and retry policies', () => {
    const problems = problemsOf(() =>
      resolveConsumerConfig({
        ...base,
        commit: { strategy: 'hybrid', size: 0, intervalMs: 100 },
        retry: { attempts: 3, backoffMs: 100, maxBackoffMs: 10 },
      }),
    )
    expect(problems.map((p) => p.option)).toEqual(expect.arrayContaining(['commit.size', 'retry.maxBackoffMs']))
  })

  it('needs groupId and topics', () => {
    const opts = { brokers, groupId: '', topics: [] } as Parameters<typeof resolveConsumerConfig>[0]
    expect(problemsOf(() => resolveConsumerConfig(opts)).map((p) => p.option)).toEqual(expect.arrayContaining(['groupId', 'topics']))
  })
})

describe('pipeline resolution', () => {
  it("defaults to 'exactly-once' and needs a transactionalIdPrefix", () => {
    const base = { brokers, groupId: 'g', from: 'in', to: 'out', transform: () => null, logger: silent }
    // The types refuse this (`as never`); JavaScript callers meet the runtime check.
    expect(problemsOf(() => resolvePipelineConfig(base as never)).map((p) => p.option)).toContain('transactionalIdPrefix, preset')
    const s = resolvePipelineConfig({ ...base, transactionalIdPrefix: 'copy' })
    expect(s.exactlyOnce).toBe(true)
    expect(s.consumer.isolationLevel).toBe('read_committed')
    expect(s.producer.idempotent).toBe(true)
  })
})

describe('definePreset', () => {
  it('extends a preset and records the change as its reason', () => {
    const p = definePreset({ extends: 'high-throughput', producer: { lingerMs: 50 } })
    expect(p.producer.lingerMs).toBe(50)
    expect(p.producer.compression).toBe('lz4')
    const s = resolveProducerConfig({ brokers, preset: p })
    expect(s.lingerMs).toBe(50)
    const row = explainConfig('producer', { brokers, preset: p }).find((r) => r.option === 'lingerMs')
    expect(row).toMatchObject({ source: 'preset', javaProperty: 'linger.ms', value: 50 })
    expect(row?.reason).toMatch(/definePreset/)
  })

  it('keeps the transactionalId requirement of exactly-once', () => {
    const p = definePreset({ extends: 'exactly-once', producer: { lingerMs: 1 } })
    expect(problemsOf(() => resolveProducerConfig({ brokers, preset: p })).map((x) => x.option)).toContain('transactionalId, preset')
  })

  it('rejects bad values at definition time', () => {
    const input = { extends: 'low-latency', producer: { lingerMs: -5, linger: 3 } } as unknown as Parameters<typeof definePreset>[0]
    const problems = problemsOf(() => definePreset(input))
    expect(problems.map((p) => p.option)).toEqual(expect.arrayContaining(['preset.producer.lingerMs', 'preset.producer.linger']))
  })
})

describe('explainConfig', () => {
  it('gives one row per setting with the Java property, source and reason', () => {
    const rows = explainConfig('producer', { brokers, preset: 'low-latency', compression: 'zstd' })
    const by = Object.fromEntries(rows.map((r) => [r.option, r]))
    expect(by.lingerMs).toMatchObject({ javaProperty: 'linger.ms', value: 0, source: 'preset' })
    expect(by.lingerMs?.reason.length).toBeGreaterThan(10)
    expect(by.compression).toMatchObject({ javaProperty: 'compression.type', value: 'zstd', source: 'option' })
    expect(by.requestTimeoutMs?.source).toBe('preset')
    expect(by.retryBackoffMs).toMatchObject({ source: 'default', javaProperty: 'retry.backoff.ms' })
    expect(rows.every((r) => typeof r.reason === 'string' && r.reason.length > 0)).toBe(true)
    const consumer = explainConfig('consumer', { brokers, groupId: 'g', topics: ['t'], preset: 'high-throughput', logger: silent })
    expect(consumer.find((r) => r.option === 'maxPollRecords')).toMatchObject({ javaProperty: 'max.poll.records', source: 'preset' })
  })

  it('throws the same ConfigError as the factories', () => {
    const opts = { brokers, lingerMs: 'soon' } as unknown as Parameters<typeof resolveProducerConfig>[0]
    expect(problemsOf(() => explainConfig('producer', opts)).map((p) => p.option)).toContain('lingerMs')
  })
})

describe('built-in presets', () => {
  it('give a reason for every value they set', () => {
    for (const p of Object.values(presets)) {
      for (const key of Object.keys(p.producer)) expect(p.reasons?.producer?.[key as keyof typeof p.producer], `${p.name}.producer.${key}`).toBeTruthy()
      for (const key of Object.keys(p.consumer)) expect(p.reasons?.consumer?.[key as keyof typeof p.consumer], `${p.name}.consumer.${key}`).toBeTruthy()
    }
  })

  it('each resolve without problems', () => {
    expect(resolveProducerConfig({ brokers, preset: 'low-latency' }).lingerMs).toBe(0)
    expect(resolveProducerConfig({ brokers, preset: 'high-throughput' }).compression).toBe('lz4')
    expect(resolveProducerConfig({ brokers, preset: 'exactly-once', transactionalId: 'x' }).acks).toBe('all')
  })
})

describe('missing and mistyped options', () => {
  it('reports missing brokers as a ConfigError on every factory path, not a TypeError', () => {
    for (const resolve of [() => resolveProducerConfig({} as never), () => resolveConsumerConfig({ groupId: 'g', topics: ['t'] } as never), () => explainConfig('producer', {} as never)]) {
      const problems = problemsOf(resolve)
      expect(problems).toEqual([{ option: 'brokers', message: expect.stringMatching(/^required: .*host:port/) }])
    }
    expect(problemsOf(() => resolveProducerConfig({ brokers: '127.0.0.1:9092' } as never))).toEqual([{ option: 'brokers', message: 'must be an array of host:port strings' }])
  })

  it('says a required option is missing in plain words', () => {
    const problems = problemsOf(() => resolveConsumerConfig({ brokers } as never))
    expect(problems).toEqual([
      { option: 'groupId', message: 'required: not given (expected a string)' },
      { option: 'topics', message: 'required: not given (expected an array)' },
    ])
  })

  it('reports a wrong preset once, with the names to choose from', () => {
    const unknown = problemsOf(() => resolveProducerConfig({ brokers, preset: 'turbo' as never }))
    expect(unknown).toEqual([{ option: 'preset', message: expect.stringMatching(/^unknown preset 'turbo': use one of low-latency, high-throughput, exactly-once/) }])
    for (const bad of [42, null, ['high-throughput']]) {
      const problems = problemsOf(() => resolveConsumerConfig({ brokers, groupId: 'g', topics: ['t'], preset: bad as never }))
      expect(problems).toHaveLength(1)
      expect(problems[0]).toEqual({ option: 'preset', message: expect.stringMatching(/^must be a preset name \(low-latency, high-throughput, exactly-once\) or a preset object/) })
    }
    const pipeline = problemsOf(() => resolvePipelineConfig({ brokers, groupId: 'g', from: 'a', to: 'b', transactionalIdPrefix: 'p', transform: (m: unknown) => m, preset: 'turbo' } as never))
    expect(pipeline.filter((p) => p.option === 'preset')).toHaveLength(1)
  })

  it('names what a pipeline `from` takes', () => {
    const problems = problemsOf(() => resolvePipelineConfig({ brokers, groupId: 'g', from: 7, transactionalIdPrefix: 'p', transform: (m: unknown) => m } as never))
    expect(problems).toEqual([{ option: 'from', message: 'must be a topic name or a non-empty array of topic names' }])
  })
})
