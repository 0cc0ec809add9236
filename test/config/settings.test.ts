import { readdirSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { pino } from 'pino'
import { ConfigError } from '../../src/errors.js'
import { definePreset, explainConfig, resolveConsumerConfig, resolvePipelineConfig, resolveProducerConfig, toKafkajsClientConfig, toKafkajsConsumerConfig, toKafkajsProducerConfig, kafkajsSendOptions } from '../../src/config/index.js'
import {
  ALL_SETTINGS,
  CONNECTION_SETTINGS,
  CONSUMER_SETTINGS,
  GROUP_ID,
  JAVA_NAMES,
  JAVA_PROPERTIES,
  PRODUCER_SETTINGS,
  TOPICS,
  TRANSACTIONAL_ID,
  javaAliases,
  type AnySetting,
} from '../../src/config/settings/index.js'

const brokers = ['127.0.0.1:9092']
const logger = pino({ level: 'silent' })
const PRODUCER_SIDE: Record<string, AnySetting> = { ...CONNECTION_SETTINGS, ...PRODUCER_SETTINGS, transactionalId: TRANSACTIONAL_ID }
const CONSUMER_SIDE: Record<string, AnySetting> = { ...CONNECTION_SETTINGS, ...CONSUMER_SETTINGS, groupId: GROUP_ID, topics: TOPICS }

describe('settings table: every option is complete', () => {
  it.each(Object.entries(ALL_SETTINGS))('%s has a Java name (or says why Kafka has none), a default and a reason', (option, s) => {
    if (typeof s.java === 'object' && 'none' in s.java) expect(s.java.none, `${option}: why Kafka has no such property`).toMatch(/\w{3,}.{15,}/)
    else expect(JAVA_PROPERTIES[option], `${option}: Java name`).toMatch(/^[A-Za-z]/)
    expect(Object.hasOwn(s, 'default'), `${option}: default (undefined only where unset means off)`).toBe(true)
    expect(s.reason, `${option}: reason`).toMatch(/\w{3,}.{10,}/)
    if (s.default !== undefined) expect(s.schema.safeParse(s.default).success, `${option}: its default passes its schema`).toBe(true)
  })

  it.each([...Object.entries(PRODUCER_SETTINGS), ...Object.entries(CONSUMER_SETTINGS)])('tuning option %s says what a pipeline does with it', (option, s: AnySetting) => {
    const use = s.pipeline
    expect(use, option).toBeDefined()
    expect(Object.values(use!)[0], option).toMatch(/.{10,}/)
  })

  it('the producer and consumer defaults leave nothing unset but the options that are off by default', () => {
    const unset = Object.entries({ ...PRODUCER_SETTINGS, ...CONSUMER_SETTINGS })
      .filter(([, s]) => s.default === undefined)
      .map(([k]) => k)
    expect(unset.sort()).toEqual(['deadLetterTopic', 'retry'])
  })
})

describe('Java names', () => {
  it('no two options claim the same Java name', () => {
    const owners = new Map<string, string>()
    for (const [option, s] of Object.entries(ALL_SETTINGS)) {
      for (const name of javaAliases(s.java)) {
        expect(owners.get(name), `${name} is claimed by ${owners.get(name)} and ${option}`).toBeUndefined()
        owners.set(name, option)
      }
    }
  })

  it('every Java name leads to its option (the names that drifted apart before included)', () => {
    for (const [option, s] of Object.entries(ALL_SETTINGS)) {
      for (const name of javaAliases(s.java)) if (name !== option) expect(JAVA_NAMES[name], name).toBe(option)
    }
    expect(JAVA_NAMES).toMatchObject({
      'retry.backoff.max.ms': 'retryBackoffMaxMs',
      'client.id': 'clientId',
      'partitioner.class': 'partitioner',
      'key.serializer': 'keySerializer',
      'value.deserializer': 'valueDeserializer',
      'partition.assignment.strategy': 'partitionAssignors',
      'auto.commit.interval.ms': 'commit',
      maxConcurrency: 'concurrency',
    })
  })

  const typed = (side: 'producer' | 'consumer', key: string): string => {
    const extra = { [key]: 1 }
    try {
      if (side === 'producer') resolveProducerConfig({ brokers, logger, ...extra } as never)
      else resolveConsumerConfig({ brokers, logger, groupId: 'g', topics: ['t'], ...extra } as never)
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError)
      return (err as ConfigError).problems.find((p) => p.option === key)?.message ?? ''
    }
    return ''
  }

  it.each([
    ...Object.entries(PRODUCER_SIDE).map(([o, s]) => ['producer', o, s] as const),
    ...Object.entries(CONSUMER_SIDE).map(([o, s]) => ['consumer', o, s] as const),
  ])('a %s given the Java name of %s is told the option', (side, option, s) => {
    for (const name of javaAliases(s.java)) {
      if (name !== option) expect(typed(side, name)).toBe(`unknown option '${name}': did you mean '${option}'?`)
    }
  })

  it("a Java name of the other side is not offered as an option this side lacks", () => {
    expect(typed('consumer', 'key.serializer')).toBe("unknown option 'key.serializer': did you mean 'keyDeserializer'?")
    expect(typed('producer', 'value.deserializer')).toBe("unknown option 'value.deserializer': did you mean 'valueSerializer'?")
    expect(typed('producer', 'offset.metadata.max.bytes')).toBe("unknown option 'offset.metadata.max.bytes'")
    expect(typed('consumer', 'retry.backoff.max.ms')).toBe("unknown option 'retry.backoff.max.ms'")
  })

  it("inside a pipeline's producer/consumer and a preset's, Java names and typos lead to that side's option", () => {
    const base = { brokers, logger, groupId: 'g', from: 'in', to: 'out', transactionalIdPrefix: 'tx', transform: () => null }
    const messages = (fn: () => unknown): string[] => {
      try {
        fn()
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError)
        return (err as ConfigError).problems.map((p) => `${p.option}: ${p.message}`)
      }
      return []
    }
    expect(messages(() => resolvePipelineConfig({ ...base, producer: { 'linger.ms': 5 }, consumer: { maxPollRecord: 5 } } as never))).toEqual([
      "producer.linger.ms: unknown option 'linger.ms': did you mean 'lingerMs'?",
      "consumer.maxPollRecord: unknown option 'maxPollRecord': did you mean 'maxPollRecords'?",
    ])
    expect(messages(() => definePreset({ extends: 'low-latency', consumer: { 'fetch.min.bytes': 1 } as never }))).toEqual([
      "preset.consumer.fetch.min.bytes: unknown option 'fetch.min.bytes': did you mean 'fetchMinBytes'?",
    ])
  })

  it('explainConfig shows the Java name of every row from the table', () => {
    const rows = [
      ...explainConfig('producer', { brokers, logger, transactionalId: 'tx', ssl: true, sasl: { mechanism: 'plain', username: 'u', password: 'p' } }),
      ...explainConfig('consumer', { brokers, logger, groupId: 'g', topics: ['t'] }),
    ]
    for (const row of rows) expect(row.javaProperty, row.option).toBe(JAVA_PROPERTIES[row.option])
    for (const row of rows.filter((r) => r.source === 'default')) expect(row.reason, row.option).toBe(ALL_SETTINGS[row.option]!.reason)
  })
})

describe('kafkajs mapping', () => {
  const producer = resolveProducerConfig({ brokers, logger, transactionalId: 'tx', ssl: true, sasl: { mechanism: 'plain', username: 'u', password: 'p' } })
  const consumer = resolveConsumerConfig({ brokers, logger, groupId: 'g', topics: ['t'] })
  const configs = {
    client: toKafkajsClientConfig(producer) as unknown as Record<string, unknown>,
    producer: toKafkajsProducerConfig(producer) as unknown as Record<string, unknown>,
    send: kafkajsSendOptions(producer) as unknown as Record<string, unknown>,
    consumer: toKafkajsConsumerConfig(consumer) as unknown as Record<string, unknown>,
  }
  const settingsOf = { client: producer, producer, send: producer, consumer } as Record<string, unknown>

  it.each(Object.entries(ALL_SETTINGS).flatMap(([option, s]) => (s.kafkajs ?? []).map((m) => [option, m.to, m.option] as const)))(
    '%s reaches kafkajs %s.%s (the key the table names, with the converted value)',
    (option, to, path) => {
      const [key, nested] = path.split('.') as [string, string | undefined]
      const top = configs[to][key]
      const got = nested === undefined ? top : (top as Record<string, unknown>)[nested]
      expect(got, `${to}.${path}`).toBeDefined()
      const mapping = ALL_SETTINGS[option]!.kafkajs!.find((m) => m.to === to && m.option === path)!
      if (to !== 'client') {
        const value = (settingsOf[to] as Record<string, unknown>)[option]
        expect(got).toEqual('convert' in mapping && mapping.convert ? mapping.convert(value as never) : value)
      }
    },
  )
})

describe('import direction', () => {
  it('presets/ is plain data: it imports only types from outside the folder', () => {
    for (const file of readdirSync('presets').filter((f) => f.endsWith('.ts'))) {
      const text = readFileSync(`presets/${file}`, 'utf8')
      for (const line of text.split('\n').filter((l) => /^\s*(import|export)\b.*\bfrom\s+'/.test(l))) {
        const from = /from\s+'([^']+)'/.exec(line)![1]!
        if (!from.startsWith('./')) expect(line, `presets/${file}`).toMatch(/^\s*(import|export) type\b/)
      }
    }
  })
})
