/**
 * Sets `obj[key]` as an own, enumerable property even when `key` is `'__proto__'`: header names come from
 * users and from the wire, and a plain assignment of that name would replace the object's prototype
 * instead of adding a header.
 */
export function setOwn(obj: object, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true })
  else (obj as Record<string, unknown>)[key] = value
}
