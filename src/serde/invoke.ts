import { KafkatuneError } from '../errors.js'
import type { Serializer, SerdeContext } from './types.js'

function nameOf(serializer: Serializer<unknown>): string {
  return serializer.name ?? 'custom'
}

function causeText(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

/** Where a record is; only these two fields of the object are read (a fetched record may be passed as it is). */
export interface RecordPlace {
  partition?: number
  offset?: string
}

function where(ctx: SerdeContext, extra: RecordPlace | undefined): string {
  const parts = [`topic "${ctx.topic}"`]
  if (extra?.partition !== undefined) parts.push(`partition ${String(extra.partition)}`)
  if (extra?.offset !== undefined) parts.push(`offset ${String(extra.offset)}`)
  return parts.join(', ')
}

function serializationError(serializer: Serializer<unknown>, ctx: SerdeContext, err: unknown): KafkatuneError {
  if (err instanceof KafkatuneError && err.code === 'SERIALIZATION') return err
  const name = nameOf(serializer)
  return new KafkatuneError('SERIALIZATION', `${ctx.part} serializer "${name}" failed for ${where(ctx, undefined)}: ${causeText(err)}`, {
    cause: err,
    retriable: false,
    details: { topic: ctx.topic, part: ctx.part, serializer: name },
  })
}

function checkBuffer(serializer: Serializer<unknown>, ctx: SerdeContext, out: unknown): Buffer {
  if (Buffer.isBuffer(out)) return out
  if (out instanceof Uint8Array) return Buffer.from(out.buffer, out.byteOffset, out.byteLength)
  throw serializationError(serializer, ctx, new TypeError(`serialize() returned ${out === null ? 'null' : typeof out}, expected a Buffer`))
}

/**
 * Runs `serializer.serialize` and returns its bytes, or throws (or rejects with) a `KafkatuneError` code
 * `SERIALIZATION` naming the topic, key/value part, serializer and cause. Synchronous serializers stay
 * synchronous (no promise per record). Callers pass `null` keys/tombstones around it, not through it.
 */
export function serializeOrThrow<T>(serializer: Serializer<T>, value: T, ctx: SerdeContext): Buffer | Promise<Buffer> {
  const s = serializer as Serializer<unknown>
  let out: Buffer | Promise<Buffer>
  try {
    out = serializer.serialize(value, ctx)
  } catch (err) {
    throw serializationError(s, ctx, err)
  }
  if (out instanceof Promise) {
    return out.then(
      (buf) => checkBuffer(s, ctx, buf),
      (err: unknown) => {
        throw serializationError(s, ctx, err)
      },
    )
  }
  return checkBuffer(s, ctx, out)
}

/**
 * The parser's error without the bytes it quotes (V8's JSON.parse says `Unexpected token 'h', "hello wor"... is
 * not valid JSON`): quoted parts are replaced, name and position kept.
 */
export function withoutPayload(err: unknown): Error {
  const text = causeText(err)
    .replace(/"(?:[^"\\]|\\.)*"(?:\.\.\.)?/g, '"[payload]"')
    .replace(/'(?:[^'\\]|\\.){1,8}'/g, "'[payload]'")
  const out = new Error(text)
  out.name = err instanceof Error ? err.name : 'Error'
  return out
}

function deserializationError(
  serializer: Serializer<unknown>,
  ctx: SerdeContext,
  err: unknown,
  extra: RecordPlace | undefined,
): KafkatuneError {
  if (err instanceof KafkatuneError && err.code === 'DESERIALIZATION') return err
  const name = nameOf(serializer)
  // Payloads can hold personal data: the message and the kept cause name the record's place, not its content.
  const cause = withoutPayload(err)
  return new KafkatuneError('DESERIALIZATION', `${ctx.part} deserializer "${name}" failed for ${where(ctx, extra)}: ${cause.message}`, {
    cause,
    retriable: false,
    details: { ...(extra?.partition !== undefined ? { partition: extra.partition } : {}), ...(extra?.offset !== undefined ? { offset: extra.offset } : {}), topic: ctx.topic, part: ctx.part, serializer: name },
  })
}

/**
 * Runs `serializer.deserialize`, or throws (or rejects with) a `KafkatuneError` code `DESERIALIZATION`
 * naming the topic, part, serializer, cause and, when given in `extra`, the partition and offset (no other field
 * of `extra` is read).
 */
export function deserializeOrThrow<T>(
  serializer: Serializer<T>,
  buf: Buffer,
  ctx: SerdeContext,
  extra?: RecordPlace,
): T | Promise<T> {
  const s = serializer as Serializer<unknown>
  let out: T | Promise<T>
  try {
    out = serializer.deserialize(buf, ctx)
  } catch (err) {
    throw deserializationError(s, ctx, err, extra)
  }
  if (out instanceof Promise) {
    return out.catch((err: unknown) => {
      throw deserializationError(s, ctx, err, extra)
    })
  }
  return out
}
