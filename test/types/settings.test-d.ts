import { describe, expectTypeOf, it } from 'vitest'
import type { ConsumerOptions, PipelineOptions, ProducerOptions } from '../../src/config/options.js'
import type { ConnectionOptions, ConsumerTuning, ProducerTuning } from '../../src/config/types.js'
import type { CONNECTION_SETTINGS, CONSUMER_SETTINGS, PIPELINE_SETTINGS, PRODUCER_SETTINGS, PRODUCER_DEFAULTS, CONSUMER_DEFAULTS } from '../../src/config/settings/index.js'

// The option interfaces stay hand-written for their TSDoc; these tie their keys to the settings table, both ways.
describe('settings table and option types', () => {
  it('the tuning interfaces and the table have the same keys', () => {
    expectTypeOf<keyof typeof PRODUCER_SETTINGS>().toEqualTypeOf<keyof ProducerTuning>()
    expectTypeOf<keyof typeof CONSUMER_SETTINGS>().toEqualTypeOf<keyof ConsumerTuning>()
    expectTypeOf<keyof typeof CONNECTION_SETTINGS>().toEqualTypeOf<keyof ConnectionOptions>()
  })

  it('the factory options are the connection, the tuning and the identity options, nothing else', () => {
    type ProducerKeys = keyof typeof CONNECTION_SETTINGS | keyof typeof PRODUCER_SETTINGS | 'preset' | 'transactionalId'
    type ConsumerKeys = keyof typeof CONNECTION_SETTINGS | keyof typeof CONSUMER_SETTINGS | 'preset' | 'groupId' | 'topics'
    expectTypeOf<keyof ProducerOptions>().toEqualTypeOf<ProducerKeys>()
    expectTypeOf<keyof ConsumerOptions>().toEqualTypeOf<ConsumerKeys>()
  })

  it('each default has the type of its option', () => {
    expectTypeOf<typeof PRODUCER_DEFAULTS>().toEqualTypeOf<Readonly<Required<ProducerTuning>>>()
    expectTypeOf<(typeof PRODUCER_SETTINGS)['acks']['default']>().toMatchTypeOf<ProducerTuning['acks']>()
    expectTypeOf<(typeof CONSUMER_SETTINGS)['autoOffsetReset']['default']>().toMatchTypeOf<ConsumerTuning['autoOffsetReset']>()
    expectTypeOf<(typeof CONSUMER_DEFAULTS)['commit']>().toEqualTypeOf<NonNullable<ConsumerTuning['commit']>>()
  })
})

describe('pipeline options and the settings table', () => {
  it('a pipeline takes the connection options, groupId, the four serializers and its own options, nothing else', () => {
    type PipelineKeys =
      | keyof typeof CONNECTION_SETTINGS
      | keyof typeof PIPELINE_SETTINGS
      | 'preset'
      | 'groupId'
      | 'keySerializer'
      | 'valueSerializer'
      | 'keyDeserializer'
      | 'valueDeserializer'
    expectTypeOf<keyof PipelineOptions>().toEqualTypeOf<PipelineKeys>()
  })
})
