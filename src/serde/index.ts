import { avro } from './avro.js'
import { bytes } from './bytes.js'
import { json } from './json.js'
import { schemaRegistry } from './schema-registry.js'
import { string } from './string.js'
import type { Serializer, SerializerName } from './types.js'

export type { Serializer, SerdeContext, SerializerName } from './types.js'
export type { AvroOptions, AvroSchemaInput } from './avro.js'
export type { SchemaRegistryOptions, RegistrySchema } from './schema-registry.js'
export { serializeOrThrow, deserializeOrThrow } from './invoke.js'
export { schemaIdOf } from './schema-registry.js'

/** Built-in serializers. */
export const serializers = { string, bytes, json, avro, schemaRegistry }

/** The serializer a preset names as plain data. */
export function serializerByName(name: SerializerName): Serializer<unknown> {
  switch (name) {
    case 'string':
      return string() as Serializer<unknown>
    case 'bytes':
      return bytes() as Serializer<unknown>
    case 'json':
      return json()
  }
}
