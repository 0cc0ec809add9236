/**
 * Record headers on the way out: what `send()` takes (a name may map to several values, since Kafka
 * headers may repeat a name) and what the record batch encoder writes. Pure: no I/O.
 */
import type { RecordHeader } from '../protocol/types.js'
import type { ProducerHeaders } from './types.js'
import { setOwn } from '../util/own.js'
import { KafkatuneError } from '../errors.js'

/**
 * Headers as the encoder takes them: an object (one value per name, the common case, no extra
 * allocation) or, when a name repeats, the list in order.
 */
export type WireHeaders = Readonly<Record<string, Buffer>> | readonly RecordHeader[]

/** What `prepare()` keeps of a record's headers: the wire form and the view serializers get. */
export interface PreparedHeaders {
  wire: WireHeaders
  /** One value per name, the last one when a name repeats (as the Java client's `lastHeader`). */
  view: Record<string, Buffer>
}

/** A header value as written: a string as UTF-8, a Buffer as it is, null/undefined as a header without a value. */
const toBuffer = (v: Buffer | string, name: string): Buffer => {
  if (typeof v === 'string') return Buffer.from(v)
  if (v === null || v === undefined || Buffer.isBuffer(v)) return v
  throw new KafkatuneError('CONFIG_INVALID', `send(): header '${name}' must be a Buffer, a string or null (or an array of them), got ${Array.isArray(v) ? 'a nested array' : typeof v}`, {
    retriable: false,
    details: { header: name },
  })
}

/**
 * Converts `send()` headers; a name with an array value is written once per element, in order. `extend` may
 * add headers to the view (a trace context) before the wire form is fixed; without headers and `extend`: none.
 */
export function prepareHeaders(headers: ProducerHeaders | undefined, extend: ((view: Record<string, Buffer>) => void) | null = null): PreparedHeaders | undefined {
  if (headers === undefined && extend === null) return undefined
  const view: Record<string, Buffer> = {}
  let list: RecordHeader[] | null = null
  for (const name in headers) {
    const v = (headers as ProducerHeaders)[name] as ProducerHeaders[string]
    if (Array.isArray(v)) {
      // Switch to the list form at the first array: the names before it keep their order.
      list ??= Object.entries(view).map(([key, value]) => ({ key, value }))
      for (const item of v as readonly (Buffer | string)[]) {
        const b = toBuffer(item, name)
        list.push({ key: name, value: b })
        setOwn(view, name, b)
      }
    } else {
      const b = toBuffer(v as Buffer | string, name)
      setOwn(view, name, b)
      list?.push({ key: name, value: b })
    }
  }
  if (extend !== null) {
    const known = list === null ? null : new Set(Object.keys(view))
    extend(view)
    if (list !== null) for (const name in view) if (!known!.has(name)) list.push({ key: name, value: view[name] as Buffer })
  }
  return { wire: list ?? view, view }
}

/** Upper bound of the headers' bytes in a v2 record (per header: two varint lengths, name, value). */
export function estimateHeadersSize(headers: WireHeaders): number {
  let size = 0
  if (Array.isArray(headers)) {
    for (const { key, value } of headers as readonly RecordHeader[]) size += 10 + Buffer.byteLength(key) + (value?.length ?? 0)
    return size
  }
  const obj = headers as Readonly<Record<string, Buffer>>
  for (const name in obj) size += 10 + Buffer.byteLength(name) + (obj[name]?.length ?? 0)
  return size
}
