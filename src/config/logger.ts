import { pino } from 'pino'
import type { Logger } from '../logging/types.js'

let defaultLogger: Logger | undefined

/** The logger used when none is given: pino at `warn` (or `KAFKATUNE_LOG_LEVEL`), on stderr. */
export function getDefaultLogger(): Logger {
  defaultLogger ??= pino({ name: 'kafkatune', level: process.env.KAFKATUNE_LOG_LEVEL ?? 'warn' }, pino.destination(2))
  return defaultLogger
}
