import type { Serializer } from './types.js'

/** JSON as UTF-8. `undefined`, functions and cycles cannot be encoded and are rejected. */
export function json<T = unknown>(): Serializer<T> {
  return {
    name: 'json',
    serialize(value) {
      const text = JSON.stringify(value)
      if (text === undefined) throw new TypeError(`value of type ${typeof value} has no JSON form`)
      return Buffer.from(text, 'utf8')
    },
    deserialize(buf) {
      return JSON.parse(buf.toString('utf8')) as T
    },
  }
}
