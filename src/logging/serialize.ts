/**
 * Log fields as plain JSON-safe data for loggers that do not serialize errors themselves (console, winston):
 * an Error becomes `{ type, message, code, stack }`, a Buffer its length, a bigint its decimal string, a
 * cycle `'[Circular]'`. Nothing is added that the fields did not hold.
 */

function errorFields(err: Error, seen: WeakSet<object>): Record<string, unknown> {
  const out: Record<string, unknown> = { type: err.name, message: err.message }
  const extra = err as Error & { code?: unknown; type?: unknown; retriable?: unknown }
  if (extra.code !== undefined) out.code = extra.code
  if (typeof extra.type === 'string' && extra.type !== err.name) out.kafkaType = extra.type
  if (typeof extra.retriable === 'boolean') out.retriable = extra.retriable
  if (err.stack !== undefined) out.stack = err.stack
  if (err.cause instanceof Error && !seen.has(err.cause)) {
    seen.add(err.cause)
    out.cause = errorFields(err.cause, seen)
  }
  return out
}

/** A JSON-safe copy of `value`. */
export function plainFields(value: unknown, seen: WeakSet<object> = new WeakSet()): unknown {
  if (typeof value === 'bigint') return value.toString()
  if (typeof value !== 'object' || value === null) return typeof value === 'function' ? undefined : value
  if (seen.has(value)) return '[Circular]'
  seen.add(value)
  if (value instanceof Error) return errorFields(value, seen)
  if (Buffer.isBuffer(value)) return `<Buffer ${value.length} bytes>`
  if (Array.isArray(value)) return value.map((v) => plainFields(v, seen))
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString()
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value)) {
    const plain = plainFields(v, seen)
    // A '__proto__' key (from parsed JSON) stays a field instead of replacing the copy's prototype.
    if (plain !== undefined) Object.defineProperty(out, k, { value: plain, enumerable: true, writable: true, configurable: true })
  }
  return out
}

/** `(fields, message)` or `(message)` as pino reads them. */
export function splitArgs(a: unknown, b: unknown): { fields: Record<string, unknown>; message: string } {
  if (typeof a === 'string') return { fields: {}, message: a }
  const fields = typeof a === 'object' && a !== null ? (a as Record<string, unknown>) : {}
  return { fields, message: typeof b === 'string' ? b : '' }
}
