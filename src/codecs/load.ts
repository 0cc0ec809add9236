import { createRequire } from 'node:module'

const requireFromHere = createRequire(import.meta.url)

/** Loads an optional native package lazily, so a platform without its prebuilt binary only loses that codec. */
export function loadNative<T>(pkg: string): { module: T } | { error: Error } {
  try {
    return { module: requireFromHere(pkg) as T }
  } catch (err) {
    return { error: err instanceof Error ? err : new Error(String(err)) }
  }
}
