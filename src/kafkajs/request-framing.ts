/**
 * kafkatune's Produce requests go on the wire without the two copies kafkajs's framing makes. kafkajs 2.2.4
 * frames every request in `protocol/request.js`: one `Encoder` gets api key, version, correlation id and
 * client id, then `writeEncoder(body)`; a second gets the size int32, then `writeEncoder(first)`. Each
 * `writeEncoder` zero-fills a new buffer of the next power of two and copies everything into it, so a 1 MiB
 * request cost two 2 MiB zero-filled allocations and two copies (~4x the produce rate in external garbage).
 *
 * `connection.js` captured `createRequest` when it loaded, so the hook sits one level lower: a one-time,
 * guarded patch of `Encoder.prototype.writeEncoder`, in kafkajs's own module instance. kafkatune writes the
 * request body into a buffer with room in front (`framedBody`) and marks it with a symbol. When the
 * patched method sees that mark, the mark was not used yet, the bytes are still where the mark says and the
 * room holds what the encoder wrote so far, it copies those few header bytes just in front of the body and
 * adopts the buffer (the encoder's `buf` becomes a view of it; the encoder is then marked the same way, so
 * the outer size-prefix encoder adopts it too). In every other case, every plain kafkajs request included,
 * it calls the original method unchanged. A mark is used once: if kafkajs framed the same body again, the
 * second framing copies, so bytes a pending socket write still holds are never rewritten.
 *
 * Patching kafkajs's `connection.js` or its socket write instead would reach further into kafkajs; a
 * request object whose `encode()` returns a pre-framed buffer is impossible (request.js always frames).
 */
import { createRequire } from 'node:module'
import { KafkatuneError } from '../errors.js'

const FRAME = Symbol.for('kafkatune.requestFrame')
const PATCHED = Symbol.for('kafkatune.encoderFramingPatch')

interface Frame {
  /** The buffer with room in front; the marked bytes start at `start`. */
  backing: Buffer
  start: number
  used: boolean
}

/** The fields of kafkajs 2.2.4's `Encoder` (src/protocol/encoder.js) the patch reads and sets. */
interface EncoderLike {
  buf: Buffer
  offset: number
  readonly buffer: Buffer
  [FRAME]?: Frame
}

/** A request body kafkajs's patched framing adopts instead of copying (its `encode()` result). */
export interface FramedBody {
  buf: Buffer
  readonly buffer: Buffer
  readonly [FRAME]: Frame
}

/** What kafkajs writes in front of a body: size int32, api key int16, version int16, correlation id int32, client id string. */
export function requestHeadroom(clientId: string | null | undefined): number {
  return 4 + 2 + 2 + 4 + 2 + (clientId == null ? 0 : Buffer.byteLength(clientId, 'utf8'))
}

/** The body at `start..` of `backing`, marked for framing in place (`start` bytes of room in front). */
export function framedBody(backing: Buffer, start: number): FramedBody {
  const body = backing.subarray(start)
  return { buf: body, buffer: body, [FRAME]: { backing, start, used: false } }
}

function layoutError(what: string, cause?: unknown): KafkatuneError {
  return new KafkatuneError('KAFKA', `kafkajs internals are not the 2.2.4 layout kafkatune's data plane was written for (${what})`, { retriable: false, cause })
}

/** Marked bodies (and their header encoders) framed in place, and marked ones that fell back to a copy (for tests). */
export const requestFramingStats = { adopted: 0, copied: 0 }

/** Adopts `value`'s buffer when it is marked and the room takes what `enc` holds; false otherwise. */
function adopt(enc: EncoderLike, value: { readonly buffer: Buffer; [FRAME]?: Frame }): boolean {
  const frame = value[FRAME]
  if (frame === undefined || frame.used) return false
  const head = enc.offset
  const { backing, start } = frame
  if (head > start || !Buffer.isBuffer(enc.buf)) return false
  const bytes = value.buffer
  // Still where the mark says (an encoder written to after adopting may have moved to a new buffer).
  if (!Buffer.isBuffer(bytes) || bytes.buffer !== backing.buffer || bytes.byteOffset !== backing.byteOffset + start || start + bytes.length > backing.length) return false
  const from = start - head
  enc.buf.copy(backing, from, 0, head)
  frame.used = true
  // Exactly the framed bytes: a later write to this encoder grows it into a new buffer, as kafkajs would.
  enc.buf = backing.subarray(from, start + bytes.length)
  enc.offset = head + bytes.length
  enc[FRAME] = { backing, start: from, used: false }
  return true
}

let applied = false

/** The Encoder class kafkajs's request framing uses (the module `connection.js` reaches through request.js). */
function loadEncoder(): { prototype: EncoderLike & { writeEncoder(value: unknown): EncoderLike; [PATCHED]?: true }; new (): EncoderLike & { writeInt16(v: number): unknown; size(): number } } {
  const requireFromHere = createRequire(import.meta.url)
  let Encoder: unknown
  try {
    Encoder = requireFromHere('kafkajs/src/protocol/encoder.js')
  } catch (err) {
    throw layoutError('protocol/encoder did not load', err)
  }
  if (typeof Encoder !== 'function') throw layoutError('Encoder is not a class')
  const E = Encoder as ReturnType<typeof loadEncoder>
  const proto = E.prototype
  if (typeof proto.writeEncoder !== 'function' || typeof Object.getOwnPropertyDescriptor(proto, 'buffer')?.get !== 'function') throw layoutError('Encoder has no writeEncoder or buffer getter')
  // The fields the patch relies on: `buf` the whole buffer, `offset` the bytes written, `buffer` and `size()` derived from them.
  const probe = new E()
  probe.writeInt16(0x0102)
  if (!Buffer.isBuffer(probe.buf) || probe.offset !== 2 || probe.size() !== 2 || probe.buffer.length !== 2 || probe.buffer.byteOffset !== probe.buf.byteOffset) throw layoutError('Encoder fields buf/offset/buffer/size differ')
  return E
}

/** Installs the patch once per process (idempotent, also across copies of kafkatune sharing one kafkajs). */
export function installRequestFraming(): void {
  if (applied) return
  const proto = loadEncoder().prototype
  applied = true
  if (proto[PATCHED] === true) return
  const original = proto.writeEncoder
  proto.writeEncoder = function writeEncoder(this: EncoderLike, value: unknown): EncoderLike {
    if (value !== null && typeof value === 'object' && FRAME in value) {
      if (adopt(this, value as unknown as { buffer: Buffer })) {
        requestFramingStats.adopted++
        return this
      }
      requestFramingStats.copied++
    }
    return original.call(this, value)
  }
  proto[PATCHED] = true
}
