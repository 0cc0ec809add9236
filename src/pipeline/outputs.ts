/**
 * One input record -> its output records: deserialize, run the transform with the consumer's `retry` policy,
 * serialize what it returned; a record that still fails goes to the dead-letter topic as one more output of
 * the same chunk (so, with exactly-once, in the same transaction as its input offset), or stops the pipeline.
 */
import type { ProducerHeaders } from '../producer/types.js'
import type { Logger } from 'pino'
import type { OutRecord } from '../config/options.js'
import type { RetryPolicy } from '../config/types.js'
import { deadLetterRecord } from '../consumer/dead-letter.js'
import type { RawRecord } from '../consumer/dead-letter.js'
import { decodeRecord } from '../consumer/decode.js'
import { runWithRetries } from '../consumer/retry.js'
import { KafkatuneError } from '../errors.js'
import type { ConsumedMessage } from '../messages.js'
import { serializeOrThrow } from '../serde/invoke.js'
import type { Serializer } from '../serde/types.js'

/** One output record, serialized. */
export interface OutputRecord {
  key: Buffer | null
  value: Buffer | null
  headers?: ProducerHeaders
}

/** Output records per topic. */
export type Outputs = Map<string, OutputRecord[]>

export interface OutputsOptions<KIn, VIn, KOut, VOut> {
  transform: (msg: ConsumedMessage<KIn, VIn>) => Promise<OutRecord<KOut, VOut> | OutRecord<KOut, VOut>[] | null> | OutRecord<KOut, VOut> | OutRecord<KOut, VOut>[] | null
  to: string | undefined
  keyDeserializer: Serializer<KIn>
  valueDeserializer: Serializer<VIn>
  keySerializer: Serializer<KOut>
  valueSerializer: Serializer<VOut>
  retry: Readonly<RetryPolicy> | null
  deadLetterTopic: string | null
  groupId: string
  log: Logger
  /** Retries end early when this says so (the pipeline is stopping, the partition moved). */
  shouldStop: () => boolean
  onRetry: () => void
  onDeadLetter: () => void
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** Adds `more` to `into`, keeping per-topic order. */
export function addOutputs(into: Outputs, more: Outputs): void {
  for (const [topic, records] of more) {
    const list = into.get(topic)
    if (list === undefined) into.set(topic, [...records])
    else list.push(...records)
  }
}

/** Builds the per-record step of a pipeline. */
export function createOutputs<KIn, VIn, KOut, VOut>(o: OutputsOptions<KIn, VIn, KOut, VOut>): (raw: RawRecord) => Promise<Outputs> {
  const serialize = async <T>(ser: Serializer<T>, value: T | null | undefined, topic: string, part: 'key' | 'value'): Promise<Buffer | null> =>
    value === null || value === undefined ? null : await serializeOrThrow(ser, value, { topic, part })

  const run = async (msg: ConsumedMessage<KIn, VIn>): Promise<Outputs> => {
    const out = await o.transform(msg)
    const list = out === null || out === undefined ? [] : Array.isArray(out) ? out : [out]
    const byTopic: Outputs = new Map()
    for (const r of list) {
      const topic = r.topic ?? o.to
      if (!topic) throw new KafkatuneError('CONFIG_INVALID', 'an output record has no topic and the pipeline has no `to`', { retriable: false })
      const rec: OutputRecord = {
        key: await serialize(o.keySerializer, r.key, topic, 'key'),
        value: await serialize(o.valueSerializer, r.value, topic, 'value'),
        ...(r.headers ? { headers: r.headers } : {}),
      }
      addOutputs(byTopic, new Map([[topic, [rec]]]))
    }
    return byTopic
  }

  /** A record failed for good: to the dead-letter topic, or the error stops the pipeline. */
  const giveUp = (raw: RawRecord, error: KafkatuneError, attempts: number): Outputs => {
    if (o.deadLetterTopic === null) throw error
    o.onDeadLetter()
    o.log.warn({ topic: raw.topic, partition: raw.partition, offset: raw.offset, deadLetterTopic: o.deadLetterTopic, err: error }, 'record sent to the dead-letter topic')
    return new Map([[o.deadLetterTopic, [deadLetterRecord(raw, error, o.groupId, attempts)]]])
  }

  return async (raw) => {
    let msg: ConsumedMessage<KIn, VIn>
    try {
      msg = await decodeRecord(raw, o.keyDeserializer, o.valueDeserializer)
    } catch (err) {
      // Bad bytes stay bad: a record that cannot be deserialized is not retried.
      return giveUp(raw, err as KafkatuneError, 0)
    }
    let outputs: Outputs = new Map()
    const outcome = await runWithRetries(
      async () => {
        outputs = await run(msg)
      },
      o.retry,
      {
        sleep,
        shouldStop: o.shouldStop,
        onRetry: (attempt, err) => {
          o.onRetry()
          o.log.info({ topic: raw.topic, partition: raw.partition, offset: raw.offset, attempt, err }, 'transform failed, retrying')
        },
      },
    )
    if (outcome.ok) return outputs
    const error = new KafkatuneError('HANDLER_FAILED', `transform failed for ${raw.topic}[${raw.partition}]@${raw.offset} after ${outcome.attempts} attempt(s)`, {
      cause: outcome.error,
      retriable: false,
      details: { topic: raw.topic, partition: raw.partition, offset: raw.offset, attempts: outcome.attempts },
    })
    return giveUp(raw, error, outcome.attempts)
  }
}
