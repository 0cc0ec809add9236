/** Serializing a record's key or value in send(): every failure becomes a `SERIALIZATION` error. */
import { KafkatuneError } from '../errors.js'
import type { Serializer } from '../serde/types.js'
import { parseTimestamp, TIMESTAMP_RULE } from '../protocol/record-batch-encode.js'
import { BATCH_OVERHEAD_BYTES, estimateRecordSize } from './accumulator.js'
import type { PendingSend } from './pending-send.js'

type Part = 'key' | 'value'

function serializationError(serializer: Serializer<unknown>, topic: string, part: Part, err: unknown): KafkatuneError {
  return new KafkatuneError('SERIALIZATION', `Could not serialize the ${part} of a record for topic "${topic}" with the ${serializer.name ?? 'custom'} serializer: ${err instanceof Error ? err.message : String(err)}`, {
    cause: err,
    retriable: false,
    details: { topic, part, serializer: serializer.name ?? 'custom' },
  })
}

function checkBuffer(serializer: Serializer<unknown>, topic: string, part: Part, out: unknown): Buffer {
  if (!Buffer.isBuffer(out)) throw serializationError(serializer, topic, part, new TypeError(`expected a Buffer, got ${out === null ? 'null' : typeof out}`))
  return out
}

/**
 * Serializes one part of a record; throws (sync serializers) or rejects (async ones) with `SERIALIZATION`.
 * Closures only for serializers that return promises: the synchronous path allocates none per record.
 */
export function serializeRecordPart<T>(serializer: Serializer<T>, value: T, topic: string, part: Part, headers: Record<string, Buffer> | undefined): Buffer | Promise<Buffer> {
  const s = serializer as Serializer<unknown>
  let out: Buffer | Promise<Buffer>
  try {
    out = serializer.serialize(value, { topic, part, headers })
  } catch (err) {
    throw serializationError(s, topic, part, err)
  }
  if (out instanceof Promise) {
    return out.then(
      (b: unknown) => checkBuffer(s, topic, part, b),
      (err: unknown) => Promise.reject(serializationError(s, topic, part, err)),
    )
  }
  return checkBuffer(s, topic, part, out)
}

/**
 * A send()'s explicit create time as the record keeps it (ms as a decimal string), checked here so that a bad
 * one fails its own send(), not the batch it would have joined.
 */
export function sendTimestamp(t: unknown, topic: string): string {
  const n = typeof t === 'number' || typeof t === 'string' ? parseTimestamp(t) : undefined
  if (n === undefined) {
    throw new KafkatuneError('CONFIG_INVALID', `send(): timestamp ${typeof t === 'string' ? `'${t}'` : String(t)} for topic "${topic}" is not ${TIMESTAMP_RULE} (ms since the epoch, a number or a decimal string)`, {
      retriable: false,
      details: { topic },
    })
  }
  return String(n)
}

/** Stores the serialized key and value in `a`, or throws RECORD_TOO_LARGE (larger than a request or the whole buffer). */
export function storeSerialized(a: PendingSend, topic: string, k: Buffer | null, v: Buffer | null, limits: { maxRequestSize: number; bufferMemory: number }): void {
  const size = estimateRecordSize(k, v, a.headers)
  if (size + BATCH_OVERHEAD_BYTES > limits.maxRequestSize || size > limits.bufferMemory) {
    throw new KafkatuneError(
      'RECORD_TOO_LARGE',
      `A record of about ${size} bytes for topic "${topic}" is larger than ${size > limits.bufferMemory ? `bufferMemory (${limits.bufferMemory})` : `maxRequestSize (${limits.maxRequestSize})`}: raise maxRequestSize (and the topic's max.message.bytes) or send smaller records`,
      { retriable: false, details: { topic, size, maxRequestSize: limits.maxRequestSize } },
    )
  }
  a.key = k
  a.value = v
  a.size = size
}
