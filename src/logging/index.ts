import { consoleLogger } from './console.js'
import { winstonLogger } from './winston.js'

export type { LogFn, LogLevel, Logger } from './types.js'
export { isLogger } from './types.js'
export type { ConsoleLike, ConsoleLoggerOptions } from './console.js'
export type { WinstonAdapterOptions, WinstonLike } from './winston.js'
export { clientLogger } from './fields.js'
export type { ClientLogFields } from './fields.js'

/** Adapters to kafkatune's `Logger` for loggers that are not pino. */
export const loggers = {
  console: consoleLogger,
  winston: winstonLogger,
} as const
