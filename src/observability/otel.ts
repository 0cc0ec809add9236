/**
 * The OpenTelemetry API, when the application has it installed (`@opentelemetry/api` is an optional peer
 * dependency). kafkatune talks only to the API: the application brings its SDK, exporters and providers.
 */
import { createRequire } from 'node:module'

export type OtelApi = typeof import('@opentelemetry/api')

let loaded: OtelApi | null | undefined

/** The application's `@opentelemetry/api` module, or null when it is not installed (then nothing is traced or exported). */
export function otelApi(): OtelApi | null {
  if (loaded === undefined) {
    try {
      // Resolved from kafkatune's own location, which finds the application's copy in a normal install.
      loaded = createRequire(import.meta.url)('@opentelemetry/api') as OtelApi
    } catch {
      loaded = null
    }
  }
  return loaded
}
