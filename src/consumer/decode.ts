/** From a fetched kafkajs record to a typed `ConsumedMessage`; shared by the consumer and the pipeline. */
import type { IHeaders } from 'kafkajs'
import type { ConsumedMessage } from '../messages.js'
import { deserializeOrThrow } from '../serde/invoke.js'
import type { Serializer } from '../serde/types.js'
import type { RawRecord } from './dead-letter.js'
import { setOwn } from '../util/own.js'

/** Headers as `Buffer`s; a repeated header name keeps its last value (as the Java client's `lastHeader`). */
export function plainHeaders(h: IHeaders): Record<string, Buffer | undefined> {
  const out: Record<string, Buffer | undefined> = {}
  // Most records carry no headers: skip the entries() allocation for them.
  let any = false
  for (const _k in h) {
    any = true
    break
  }
  if (!any) return out
  for (const [k, v] of Object.entries(h)) {
    const last = Array.isArray(v) ? v[v.length - 1] : v
    setOwn(out, k, last === undefined ? undefined : Buffer.isBuffer(last) ? last : Buffer.from(last))
  }
  return out
}

/** Deserializes key and value; synchronous (no microtask per record) unless a deserializer is async. */
export function decodeRecord<K, V>(
  raw: RawRecord,
  keyDeserializer: Serializer<K>,
  valueDeserializer: Serializer<V>,
): ConsumedMessage<K, V> | Promise<ConsumedMessage<K, V>> {
  const headers = plainHeaders(raw.headers)
  // An error names the record's partition and offset, read off `raw` (its payload is not).
  const key = raw.key === null ? null : deserializeOrThrow(keyDeserializer, raw.key, { topic: raw.topic, part: 'key', headers }, raw)
  const value = raw.value === null ? null : deserializeOrThrow(valueDeserializer, raw.value, { topic: raw.topic, part: 'value', headers }, raw)
  if (key instanceof Promise || value instanceof Promise) return Promise.all([key, value]).then(([k, v]) => message(raw, headers, k, v))
  return message(raw, headers, key, value)
}

function message<K, V>(raw: RawRecord, headers: Record<string, Buffer | undefined>, key: K | null, value: V | null): ConsumedMessage<K, V> {
  return { topic: raw.topic, partition: raw.partition, offset: raw.offset, key, value, headers, timestamp: raw.timestamp }
}
