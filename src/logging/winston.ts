/**
 * `loggers.winston(logger)`: kafkatune's lines into a winston logger, without importing winston (any object
 * with winston's `log(level, message, meta)` fits). Fields become winston metadata, errors plain objects
 * (winston's JSON format would print an Error as `{}`), child bindings are merged into every line's metadata.
 */
import { levelMethods } from './types.js'
import type { LogFn, LogLevel, Logger } from './types.js'
import { plainFields, splitArgs } from './serialize.js'

/** The part of a winston logger the adapter uses. */
export interface WinstonLike {
  log(level: string, message: string, meta?: object): unknown
  /** winston's level; read to tell kafkajs what to send. */
  level?: string
  /** winston's own check, used to skip building metadata for lines it would drop. */
  isLevelEnabled?(level: string): boolean
}

/** Options of `loggers.winston()`. */
export interface WinstonAdapterOptions {
  /**
   * The winston level each kafkatune level is written at. The default fits winston's npm levels; set it
   * for syslog or custom levels.
   * @default { trace: 'silly', debug: 'debug', info: 'info', warn: 'warn', error: 'error', fatal: 'error' }
   * @example loggers.winston(logger, { levels: { warn: 'warning', fatal: 'crit' } })
   */
  levels?: Partial<Record<LogLevel, string>>
}

const NPM_LEVELS: Record<LogLevel, string> = { trace: 'silly', debug: 'debug', info: 'info', warn: 'warn', error: 'error', fatal: 'error' }
/** winston npm level -> the pino level name kafkajs filtering understands. */
const FROM_WINSTON: Record<string, LogLevel> = { silly: 'trace', debug: 'debug', verbose: 'debug', http: 'info', info: 'info', warn: 'warn', warning: 'warn', error: 'error' }

function build(target: WinstonLike, levels: Record<LogLevel, string>, bindings: Record<string, unknown>): Logger {
  const method = (l: LogLevel): LogFn => {
    const level = levels[l]
    return ((a: unknown, b?: unknown) => {
      if (target.isLevelEnabled !== undefined && !target.isLevelEnabled(level)) return
      const { fields, message } = splitArgs(a, b)
      const meta = plainFields({ ...bindings, ...fields }) as Record<string, unknown>
      // winston appends meta.message to the line's message; keep a field of that name apart.
      if ('message' in meta) {
        meta.fieldMessage = meta.message
        delete meta.message
      }
      target.log(level, message, meta)
    }) as LogFn
  }
  return {
    ...levelMethods(method),
    child: (more) => build(target, levels, { ...bindings, ...more }),
    get level() {
      return target.level === undefined ? undefined : FROM_WINSTON[target.level]
    },
  }
}

/**
 * Adapts a winston logger (duck-typed: kafkatune does not depend on winston).
 * @example
 * import winston from 'winston'
 * createProducer({ ..., logger: loggers.winston(winston.createLogger({ level: 'info', transports: [new winston.transports.Console()] })) })
 */
export function winstonLogger(logger: WinstonLike, options: WinstonAdapterOptions = {}): Logger {
  if (typeof logger !== 'object' || logger === null || typeof logger.log !== 'function') {
    throw new TypeError('loggers.winston() expects a winston logger (an object with log(level, message, meta))')
  }
  return build(logger, { ...NPM_LEVELS, ...options.levels }, {})
}
