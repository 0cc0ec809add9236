import { pino, type Logger } from 'pino'

let defaultLogger: Logger | undefined

/** The logger used when none is given: pino at `warn`, on stderr. */
export function getDefaultLogger(): Logger {
  defaultLogger ??= pino({ name: 'kafkatune', level: process.env.KAFKATUNE_LOG_LEVEL ?? 'warn' }, pino.destination(2))
  return defaultLogger
}
