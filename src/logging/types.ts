/**
 * The logger kafkatune writes to: any object with pino's level methods and `child()`. pino and its child
 * loggers fit as they are; `loggers.console()` and `loggers.winston()` adapt the others.
 */

/** The level names, lowest first (pino's). */
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'

/** One log method, with pino's calling convention: fields first and the message second, or the message alone. */
export interface LogFn {
  (fields: object, message?: string): void
  (message: string): void
}

/**
 * A logger with pino's level methods. kafkatune only ever calls `method(fields, message)` or
 * `method(message)` and `child(bindings)`.
 * @example
 * const logger: Logger = pino({ level: 'info' })            // pino as it is
 * const logger: Logger = loggers.console({ level: 'info' }) // console.*
 * const logger: Logger = loggers.winston(winstonLogger)     // a winston logger, duck-typed
 */
export interface Logger {
  trace: LogFn
  debug: LogFn
  info: LogFn
  warn: LogFn
  error: LogFn
  fatal: LogFn
  /** A logger that adds `bindings` to every line it writes (pino's `child`). */
  child(bindings: Record<string, unknown>): Logger
  /**
   * The lowest level written (`'trace'` ... `'fatal'`, or `'silent'`), as pino's `level`. kafkatune asks
   * kafkajs for nothing below it; without it every kafkajs line is passed on and the logger filters.
   * @default undefined
   */
  readonly level?: string
}

export const LOG_LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal']

/** True when `value` has every method kafkatune calls on a logger. */
export function isLogger(value: unknown): value is Logger {
  if (typeof value !== 'object' || value === null) return false
  const v = value as Record<string, unknown>
  return typeof v.child === 'function' && LOG_LEVELS.every((l) => typeof v[l] === 'function')
}

/** The six level methods of a logger, each made by `method` (the adapters share this shape). */
export function levelMethods(method: (level: LogLevel) => LogFn): Pick<Logger, LogLevel> {
  return { trace: method('trace'), debug: method('debug'), info: method('info'), warn: method('warn'), error: method('error'), fatal: method('fatal') }
}
