/** `loggers.console()`: kafkatune's lines on `console.*`, one line each: time, level, message, fields as JSON. */
import { LOG_LEVELS, levelMethods } from './types.js'
import type { LogFn, LogLevel, Logger } from './types.js'
import { plainFields, splitArgs } from './serialize.js'

/** What `loggers.console()` writes to: `console` or anything with its four methods. */
export type ConsoleLike = Pick<Console, 'debug' | 'info' | 'warn' | 'error'>

/** Options of `loggers.console()`. */
export interface ConsoleLoggerOptions {
  /**
   * The lowest level written; `'silent'` writes nothing.
   * @default 'info'
   * @example loggers.console({ level: 'debug' })
   */
  level?: LogLevel | 'silent'
  /** Where lines go. @default globalThis.console */
  console?: ConsoleLike
}

const METHOD: Record<LogLevel, keyof ConsoleLike> = { trace: 'debug', debug: 'debug', info: 'info', warn: 'warn', error: 'error', fatal: 'error' }

function rank(level: LogLevel | 'silent'): number {
  return level === 'silent' ? Infinity : LOG_LEVELS.indexOf(level)
}

function build(out: ConsoleLike, level: LogLevel | 'silent', bindings: Record<string, unknown>): Logger {
  const min = rank(level)
  const method = (l: LogLevel): LogFn => {
    if (rank(l) < min) return () => undefined
    const write = out[METHOD[l]].bind(out)
    const label = l.toUpperCase()
    return ((a: unknown, b?: unknown) => {
      const { fields, message } = splitArgs(a, b)
      const all = Object.keys(bindings).length === 0 ? fields : { ...bindings, ...fields }
      const json = Object.keys(all).length === 0 ? '' : ` ${JSON.stringify(plainFields(all))}`
      write(`${new Date().toISOString()} ${label} ${message}${json}`)
    }) as LogFn
  }
  return {
    ...levelMethods(method),
    child: (more) => build(out, level, { ...bindings, ...more }),
    level,
  }
}

/**
 * A logger on `console.*` (trace and debug on `console.debug`, error and fatal on `console.error`).
 * @example createConsumer({ ..., logger: loggers.console({ level: 'info' }) })
 */
export function consoleLogger(options: ConsoleLoggerOptions = {}): Logger {
  return build(options.console ?? globalThis.console, options.level ?? 'info', {})
}
