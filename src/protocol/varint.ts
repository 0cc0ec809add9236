/**
 * Kafka's variable-length integers (protobuf style, zigzag for signed values) as RecordBatch v2 records
 * use them. Values are JS numbers: 32-bit varints for lengths and offset deltas, safe-integer "varlongs"
 * for timestamp deltas (exact up to 2^52 ms either way; real timestamps are about 2^41).
 */

/** Bytes a zigzag varint of `value` (a 32-bit signed integer) takes. */
export function sizeOfVarInt(value: number): number {
  let v = ((value << 1) ^ (value >> 31)) >>> 0
  let n = 1
  while (v >= 0x80) {
    v >>>= 7
    n++
  }
  return n
}

/** Writes `value` (32-bit signed) as a zigzag varint at `offset`; returns the offset after it. */
export function writeVarInt(buf: Buffer, offset: number, value: number): number {
  let v = ((value << 1) ^ (value >> 31)) >>> 0
  while (v >= 0x80) {
    buf[offset++] = (v & 0x7f) | 0x80
    v >>>= 7
  }
  buf[offset++] = v
  return offset
}

/** Varlongs are exact for |value| <= 2^52 (their zigzag stays a safe integer); timestamps are far below. */
export const MAX_VARLONG = 2 ** 52
const MAX_ZIGZAG = 2 ** 53

/** Zigzag of a safe integer, as a non-negative safe integer (no 32-bit wrap-around). */
function zigzag64(value: number): number {
  return value >= 0 ? value * 2 : -value * 2 - 1
}

/** Bytes a zigzag varlong of `value` (a safe integer) takes. */
export function sizeOfVarLong(value: number): number {
  if (value >= -0x40000000 && value < 0x40000000) return sizeOfVarInt(value)
  let v = zigzag64(value)
  let n = 1
  while (v >= 0x80) {
    v = Math.floor(v / 128)
    n++
  }
  return n
}

/** Writes `value` (a safe integer) as a zigzag varlong at `offset`; returns the offset after it. */
export function writeVarLong(buf: Buffer, offset: number, value: number): number {
  if (value >= -0x40000000 && value < 0x40000000) return writeVarInt(buf, offset, value)
  let v = zigzag64(value)
  while (v >= 0x80) {
    buf[offset++] = (v % 128) | 0x80
    v = Math.floor(v / 128)
  }
  buf[offset++] = v
  return offset
}

/** A read position in a buffer (one object per decode, not per value). */
export interface Cursor {
  buf: Buffer
  pos: number
}

/** Thrown by readers on bytes that end early or encode an impossible value; the caller wraps it. */
export class MalformedInputError extends Error {
  override name = 'MalformedInputError'
}

/** Reads a zigzag varint (32-bit signed). */
export function readVarInt(c: Cursor): number {
  const buf = c.buf
  let pos = c.pos
  let result = 0
  let shift = 0
  for (;;) {
    if (pos >= buf.length) throw new MalformedInputError(`varint runs past the end of the buffer at byte ${pos}`)
    const b = buf[pos++] as number
    if (shift === 28) {
      if (b > 0x0f) throw new MalformedInputError(`varint longer than 5 bytes at byte ${pos - 1}`)
      result |= b << 28
      break
    }
    result |= (b & 0x7f) << shift
    if (b < 0x80) break
    shift += 7
  }
  c.pos = pos
  const u = result >>> 0
  return (u >>> 1) ^ -(u & 1)
}

/** Reads a zigzag varlong; values beyond the safe-integer range are rejected. */
export function readVarLong(c: Cursor): number {
  const buf = c.buf
  let pos = c.pos
  let result = 0
  let mul = 1
  for (let i = 0; ; i++) {
    if (pos >= buf.length) throw new MalformedInputError(`varlong runs past the end of the buffer at byte ${pos}`)
    if (i >= 10) throw new MalformedInputError(`varlong longer than 10 bytes at byte ${pos}`)
    const b = buf[pos++] as number
    result += (b & 0x7f) * mul
    if (b < 0x80) break
    mul *= 128
  }
  if (result > MAX_ZIGZAG) throw new MalformedInputError(`varlong beyond 2^52 at byte ${c.pos}`)
  c.pos = pos
  return result % 2 === 0 ? result / 2 : -(result + 1) / 2
}
