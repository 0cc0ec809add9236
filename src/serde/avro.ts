import { createRequire } from 'node:module'
import type { Schema, Type } from 'avsc'

type Avsc = typeof import('avsc')
let avscModule: Avsc | undefined
/** Loaded on first use: a producer without Avro does not pay for avsc's memory. */
const avsc = (): Avsc => (avscModule ??= createRequire(import.meta.url)('avsc') as Avsc)
import type { Serializer } from './types.js'

/** Options passed to avsc's `Type.forSchema` (e.g. `logicalTypes`, `wrapUnions`). */
export type AvroOptions = Parameters<Avsc['Type']['forSchema']>[1]

/**
 * An Avro schema: a schema object (typed loosely so literals need no `as const`), its JSON text, a
 * primitive type name, or an avsc `Type`.
 */
export type AvroSchemaInput = Schema | Type | object | string

/** Paths (`a.b[2]`) where `value` does not match `type`, each with what arrived. */
export function avroProblems(type: Type, value: unknown): string[] {
  const problems: string[] = []
  type.isValid(value, {
    errorHook(path: string[], val: unknown, t: Type) {
      const where = path.length === 0 ? '(root)' : path.join('.')
      const expected = t.branchName ?? t.typeName
      problems.push(`${where}: expected ${expected}, got ${describe(val)}`)
    },
  })
  return problems
}

function describe(val: unknown): string {
  if (val === null) return 'null'
  if (val === undefined) return 'undefined'
  if (Buffer.isBuffer(val)) return `Buffer(${val.length})`
  if (Array.isArray(val)) return 'array'
  if (typeof val === 'object') return 'object'
  const text = JSON.stringify(val) ?? String(val)
  return `${typeof val} ${text.length > 40 ? `${text.slice(0, 40)}...` : text}`
}

/** avsc reads a bare string as a type name: JSON schema text (`{...}`, `[...]`, `"string"`) is parsed first. */
function parseSchema(schema: Schema): Schema {
  if (typeof schema !== 'string') return schema
  const text = schema.trim()
  return text.startsWith('{') || text.startsWith('[') || text.startsWith('"') ? (JSON.parse(text) as Schema) : schema
}

/**
 * Schemaless Avro (binary, no header): both sides share `schema`. Values are validated before encoding
 * and a mismatch names every offending field.
 * @example serializers.avro<{ id: number }>({ type: 'record', name: 'Order', fields: [{ name: 'id', type: 'int' }] })
 */
export function avro<T = unknown>(schema: AvroSchemaInput, options?: AvroOptions): Serializer<T> {
  const type: Type = avsc().Type.isType(schema) ? (schema as Type) : avsc().Type.forSchema(parseSchema(schema as Schema), options)
  const label = type.name ?? type.typeName
  return {
    name: 'avro',
    serialize(value) {
      const problems = avroProblems(type, value)
      if (problems.length > 0) {
        throw new TypeError(`value does not match Avro schema ${label}: ${problems.join('; ')}`)
      }
      return type.toBuffer(value)
    },
    deserialize(buf) {
      return type.fromBuffer(buf) as T
    },
  }
}
