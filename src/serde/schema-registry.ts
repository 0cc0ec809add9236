import { createRequire } from 'node:module'
import type { SchemaRegistry as SchemaRegistryClient } from '@kafkajs/confluent-schema-registry'
import type { Serializer, SerdeContext } from './types.js'

type RegistryModule = typeof import('@kafkajs/confluent-schema-registry')
let registryModule: RegistryModule | undefined
/** Loaded on first use: the registry client and its dependencies add ~17 MB to every process that imports kafkatune. */
const registryPkg = (): RegistryModule => (registryModule ??= createRequire(import.meta.url)('@kafkajs/confluent-schema-registry') as RegistryModule)

type ConfluentSchema = Parameters<SchemaRegistryClient['register']>[0] & Parameters<SchemaRegistryClient['getRegistryIdBySchema']>[1]

/** A schema in the registry's own terms; plain Avro schemas (objects or JSON text) need no wrapper. */
export interface RegistrySchema {
  type: 'AVRO' | 'JSON' | 'PROTOBUF'
  /** The schema text. */
  schema: string
}

/** Options of `serializers.schemaRegistry()`. */
export interface SchemaRegistryOptions {
  /** Base URL of a Confluent-compatible registry, e.g. `http://localhost:8081` or Apicurio's `.../apis/ccompat/v7`. */
  host: string
  /** Subject to register under / look up. @default `<topic>-value` or `<topic>-key` (TopicNameStrategy) */
  subject?: string
  /** Writer schema to register (Avro object or JSON text, or `{ type, schema }`); without it the subject's latest schema is used. */
  schema?: object | string | RegistrySchema
  /** HTTP basic auth for the registry. */
  auth?: { username: string; password: string }
  /** Sent as the client id header. */
  clientId?: string
  /** An existing client to share (its schema cache is shared too); `host`/`auth` are then ignored. */
  registry?: SchemaRegistryClient
}

const MAGIC = 0

function toRegistrySchema(schema: object | string | RegistrySchema): RegistrySchema {
  if (typeof schema === 'string') return { type: 'AVRO', schema }
  const s = schema as Partial<RegistrySchema>
  if (typeof s.schema === 'string' && (s.type === 'AVRO' || s.type === 'JSON' || s.type === 'PROTOBUF')) {
    return { type: s.type, schema: s.schema }
  }
  return { type: 'AVRO', schema: JSON.stringify(schema) }
}

/** Reads the schema id of a Confluent wire-format message (magic byte 0, then a 4-byte big-endian id). */
export function schemaIdOf(buf: Buffer): number {
  if (buf.length < 5) throw new Error(`message of ${buf.length} bytes is too short for the Confluent wire format (magic byte + 4-byte schema id)`)
  if (buf[0] !== MAGIC) throw new Error(`message starts with byte ${buf[0]}, not the Confluent wire-format magic byte 0: it was not written by a schema-registry serializer`)
  return buf.readInt32BE(1)
}

/**
 * Confluent wire format (magic byte 0 + 4-byte schema id + payload) through a schema registry. With `schema`
 * it is registered under the subject once (ids are cached); without it the subject's latest schema is used.
 * Deserializing resolves the writer schema from the id in each message.
 * @example serializers.schemaRegistry<Order>({ host: 'http://localhost:8081', schema: orderAvroSchema })
 */
export function schemaRegistry<T = unknown>(options: SchemaRegistryOptions): Serializer<T> {
  const registry: SchemaRegistryClient =
    options.registry ??
    new (registryPkg().SchemaRegistry)({
      host: options.host,
      ...(options.auth !== undefined ? { auth: options.auth } : {}),
      ...(options.clientId !== undefined ? { clientId: options.clientId } : {}),
    })
  const schema = options.schema === undefined ? undefined : toRegistrySchema(options.schema)
  const ids = new Map<string, Promise<number>>()

  async function resolveId(subject: string): Promise<number> {
    if (schema === undefined) return await registry.getLatestSchemaId(subject)
    // The client types ConfluentSchema as a union keyed by `type`; ours is the same shape.
    const confluent = { type: registryPkg().SchemaType[schema.type], schema: schema.schema } as ConfluentSchema
    try {
      // A lookup first: one request when the schema is already there, and no compatibility-config checks.
      return await registry.getRegistryIdBySchema(subject, confluent)
    } catch (err) {
      // The client turns the registry's 404 (subject or schema unknown) into a bare ConfluentSchemaRegistryError.
      if (!(err instanceof Error) || err.name !== 'ConfluentSchemaRegistryError') throw err
    }
    const { id } = await registry.register(confluent, { subject })
    return id
  }

  function idFor(ctx: SerdeContext): Promise<number> {
    const subject = options.subject ?? `${ctx.topic}-${ctx.part}`
    let id = ids.get(subject)
    if (id === undefined) {
      id = resolveId(subject)
      ids.set(subject, id)
      // A failure is not cached: the next record tries the registry again.
      id.catch(() => ids.delete(subject))
    }
    return id
  }

  return {
    name: 'schemaRegistry',
    async serialize(value, ctx) {
      const id = await idFor(ctx)
      return await registry.encode(id, value)
    },
    async deserialize(buf) {
      schemaIdOf(buf)
      return (await registry.decode(buf)) as T
    },
  }
}
