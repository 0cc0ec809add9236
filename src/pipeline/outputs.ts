/**
 * One input record -> its output records: run the transform, give each output its topic, serialize it. A
 * failure (the transform, a serializer, an output without a topic) is the input record's: the batch loop
 * retries it with the consumer's `retry` policy and then dead-letters it or stops the pipeline.
 */
import type { OutRecord } from '../config/options.js'
import { KafkatuneError } from '../errors.js'
import type { ConsumedMessage } from '../messages.js'
import { serializeOrThrow } from '../serde/invoke.js'
import type { Serializer } from '../serde/types.js'
import type { RawRecord } from '../consumer/dead-letter.js'
import { deadLetterRecord } from '../consumer/dead-letter.js'
import { prepareHeaders } from '../producer/headers.js'
import type { StagedRecord } from './producer-pool.js'

export interface TransformStepOptions<KIn, VIn, KOut, VOut> {
  transform: (msg: ConsumedMessage<KIn, VIn>) => Promise<OutRecord<KOut, VOut> | OutRecord<KOut, VOut>[] | null> | OutRecord<KOut, VOut> | OutRecord<KOut, VOut>[] | null
  to: string | undefined
  keySerializer: Serializer<KOut>
  valueSerializer: Serializer<VOut>
}

/** Builds the per-record step of a pipeline. */
export function createTransformStep<KIn, VIn, KOut, VOut>(o: TransformStepOptions<KIn, VIn, KOut, VOut>): (msg: ConsumedMessage<KIn, VIn>) => Promise<StagedRecord<KOut, VOut>[]> {
  const serialize = async <T>(ser: Serializer<T>, value: T | null | undefined, topic: string, part: 'key' | 'value', headers: Record<string, Buffer> | undefined): Promise<Buffer | null> =>
    value === null || value === undefined ? null : await serializeOrThrow(ser, value, { topic, part, ...(headers ? { headers } : {}) })

  return async (msg) => {
    const out = await o.transform(msg)
    const list = out === null || out === undefined ? [] : Array.isArray(out) ? out : [out]
    const staged: StagedRecord<KOut, VOut>[] = []
    for (const r of list) {
      if (r === null || typeof r !== 'object') {
        throw new KafkatuneError('CONFIG_INVALID', `transform returned ${r === null ? 'null inside an array' : typeof r}: return an output record ({ value, key?, topic?, headers? }), an array of them, or null to skip`, {
          retriable: false,
        })
      }
      if (r.topic !== undefined && (typeof r.topic !== 'string' || r.topic === '')) {
        throw new KafkatuneError('CONFIG_INVALID', `an output record's topic must be a non-empty string, got ${typeof r.topic === 'string' ? "''" : typeof r.topic}`, { retriable: false })
      }
      const topic = r.topic ?? o.to
      if (!topic) throw new KafkatuneError('CONFIG_INVALID', 'an output record has no topic and the pipeline has no `to`', { retriable: false })
      // Serializers see one value per header name, as the producer's do.
      const view = prepareHeaders(r.headers)?.view
      staged.push({
        record: { topic, key: r.key ?? null, value: r.value, ...(r.headers ? { headers: r.headers } : {}) },
        keyBytes: await serialize(o.keySerializer, r.key, topic, 'key', view),
        valueBytes: await serialize(o.valueSerializer, r.value, topic, 'value', view),
      })
    }
    return staged
  }
}

/** The dead-letter output of a record the pipeline gave up on (written in the transaction of its input offset). */
export function deadLetterOutput<KOut, VOut>(dlqTopic: string, raw: RawRecord, error: unknown, groupId: string, attempts: number): StagedRecord<KOut, VOut> {
  const r = deadLetterRecord(raw, error, groupId, attempts)
  // Bytes as they came: the partitioner sees the raw key, the serializers are bypassed.
  return { record: { topic: dlqTopic, key: r.key as KOut | null, value: r.value as VOut, headers: r.headers }, keyBytes: r.key, valueBytes: r.value }
}
