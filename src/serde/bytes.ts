import type { Serializer } from './types.js'

/** Buffers as they are. */
export function bytes(): Serializer<Buffer> {
  return {
    name: 'bytes',
    serialize(value) {
      if (!Buffer.isBuffer(value)) throw new TypeError(`expected a Buffer, got ${typeof value}`)
      return value
    },
    deserialize(buf) {
      return buf
    },
  }
}
