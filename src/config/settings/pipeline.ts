/** A pipeline's own options; it also takes the connection options, `groupId` and the four serializers. */
import { z } from 'zod'
import { CONSUMER_SETTINGS } from './consumer.js'
import { PRODUCER_SETTINGS } from './producer.js'
import { shapeOf, type Setting } from './setting.js'

const topic = z.string().min(1)

export const PIPELINE_SETTINGS = {
  from: {
    schema: z.union([topic, z.array(topic).min(1)], { message: 'must be a topic name or a non-empty array of topic names' }),
    default: undefined,
    java: { none: 'the input topics: what the consumer of a consume-transform-produce loop subscribes to' },
    reason: 'required: there is no default',
  },
  to: {
    schema: topic,
    default: undefined,
    java: { none: 'the topic of output records that name none: the first argument of a ProducerRecord' },
    reason: 'every output record names its topic unless `to` is given',
  },
  transactionalIdPrefix: {
    schema: topic,
    default: undefined,
    java: { none: 'one transactional.id per input partition is derived from it, as Kafka Streams derives them from application.id' },
    reason: 'required with exactly-once (the default preset): it must stay the same across restarts',
  },
  transform: {
    schema: z.custom<(...a: unknown[]) => unknown>((v) => typeof v === 'function', { message: 'must be a function' }),
    default: undefined,
    java: { none: 'the code between poll() and send(), not a property' },
    reason: 'required: there is no default',
  },
  producer: {
    schema: z.strictObject(shapeOf(PRODUCER_SETTINGS, 'preset')),
    default: undefined,
    java: { none: "a group of the output producers' properties (each tuning option has its own Java name)" },
    reason: "the preset's producer values",
  },
  consumer: {
    schema: z.strictObject(shapeOf(CONSUMER_SETTINGS, 'preset')),
    default: undefined,
    java: { none: "a group of the input consumer's properties (each tuning option has its own Java name)" },
    reason: "the preset's consumer values",
  },
} satisfies Record<string, Setting<unknown>>
