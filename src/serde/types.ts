/** What a serializer is told about the record it works on. */
export interface SerdeContext {
  topic: string
  /** Which half of the record: the key or the value. */
  part: 'key' | 'value'
  headers?: Record<string, Buffer | string | undefined>
}

/** Turns values into bytes and back. Key and value serializers are chosen independently. */
export interface Serializer<T> {
  /** A short name used in errors and `explainConfig` (`string`, `json`, `avro`, ...). */
  readonly name?: string
  serialize(value: T, ctx: SerdeContext): Buffer | Promise<Buffer>
  deserialize(buf: Buffer, ctx: SerdeContext): T | Promise<T>
}

/** Built-in serializers that a preset may name as plain data. */
export type SerializerName = 'string' | 'bytes' | 'json'
