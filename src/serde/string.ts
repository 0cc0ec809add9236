import type { Serializer } from './types.js'

/** UTF-8 strings. */
export function string(): Serializer<string> {
  return {
    name: 'string',
    serialize(value) {
      if (typeof value !== 'string') throw new TypeError(`expected a string, got ${typeof value}`)
      return Buffer.from(value, 'utf8')
    },
    deserialize(buf) {
      return buf.toString('utf8')
    },
  }
}
