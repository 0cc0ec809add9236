import { Writable } from 'node:stream'
import { pino } from 'pino'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { resolveConsumerConfig, resolveProducerConfig } from '../../src/config/index.js'
import { ConfigError, KafkatuneError } from '../../src/errors.js'
import { loggers } from '../../src/index.js'
import type { Logger } from '../../src/index.js'
import { clientLogger, isLogger } from '../../src/logging/index.js'
import type { WinstonLike } from '../../src/logging/index.js'

function recordingConsole() {
  const lines: [string, string][] = []
  const make = (m: string) => (line: string) => void lines.push([m, line])
  return { lines, console: { debug: make('debug'), info: make('info'), warn: make('warn'), error: make('error') } }
}

function fakeWinston(level = 'info') {
  const order = ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly']
  const calls: { level: string; message: string; meta: Record<string, unknown> }[] = []
  const w: WinstonLike & { calls: typeof calls } = {
    calls,
    level,
    log: (l: string, message: string, meta?: object) => void calls.push({ level: l, message, meta: meta as Record<string, unknown> }),
    isLevelEnabled: (l: string) => order.indexOf(l) <= order.indexOf(w.level!),
  }
  return w
}

describe('Logger type', () => {
  it('pino, a pino child and both adapters are Loggers', () => {
    const p = pino({ level: 'silent' })
    expectTypeOf(p).toMatchTypeOf<Logger>()
    expectTypeOf(p.child({ a: 1 })).toMatchTypeOf<Logger>()
    expectTypeOf(loggers.console()).toEqualTypeOf<Logger>()
    expectTypeOf(loggers.winston(fakeWinston())).toEqualTypeOf<Logger>()
    expect([p, p.child({ a: 1 }), loggers.console(), loggers.winston(fakeWinston())].every(isLogger)).toBe(true)
    expect(isLogger({ info: () => undefined, child: () => undefined })).toBe(false)
  })

  it('the options accept any logger with the methods and reject other objects with a ConfigError', () => {
    const logger = loggers.console({ level: 'silent' })
    expect(resolveProducerConfig({ brokers: ['127.0.0.1:9092'], logger }).logger).toBe(logger)
    const custom: Logger = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, fatal() {}, child: () => custom }
    expect(resolveConsumerConfig({ brokers: ['127.0.0.1:9092'], groupId: 'g', topics: ['t'], logger: custom }).logger).toBe(custom)
    let err: unknown
    try {
      resolveProducerConfig({ brokers: ['127.0.0.1:9092'], logger: { info() {}, child() {} } as unknown as Logger })
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(ConfigError)
    expect(String((err as Error).message)).toMatch(/logger.*pino's methods/)
  })
})

describe('loggers.console()', () => {
  it('writes at and above its level, one line each, fields as JSON with the child bindings', () => {
    const c = recordingConsole()
    const log = loggers.console({ level: 'info', console: c.console }).child({ clientId: 'app-1' }).child({ groupId: 'billing' })
    log.debug({ skipped: true }, 'not written')
    log.info({ topic: 'orders', partition: 3 }, 'joined the group')
    log.warn('plain message')
    log.fatal({ n: 10n }, 'last words')
    expect(c.lines.map(([m]) => m)).toEqual(['info', 'warn', 'error'])
    expect(c.lines[0]![1]).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z INFO joined the group \{"clientId":"app-1","groupId":"billing","topic":"orders","partition":3\}$/)
    expect(c.lines[1]![1]).toMatch(/ WARN plain message \{"clientId":"app-1","groupId":"billing"\}$/)
    expect(c.lines[2]![1]).toMatch(/ FATAL last words .*"n":"10"/)
    expect(log.level).toBe('info')
  })

  it('errors become type, message, code and stack (with their cause); buffers their length; cycles are cut', () => {
    const c = recordingConsole()
    const log = loggers.console({ level: 'trace', console: c.console })
    const err = new KafkatuneError('HANDLER_FAILED', 'Handler failed', { cause: new Error('db down') })
    const cyclic: Record<string, unknown> = { a: 1 }
    cyclic.self = cyclic
    log.trace({ err, value: Buffer.from('secret-ish payload'), cyclic }, 'x')
    const json = JSON.parse(c.lines[0]![1].slice(c.lines[0]![1].indexOf('{'))) as Record<string, any>
    expect(json.err).toMatchObject({ type: 'KafkatuneError', message: 'Handler failed', code: 'HANDLER_FAILED', cause: { type: 'Error', message: 'db down' } })
    expect(json.err.stack).toMatch(/Handler failed/)
    expect(json.value).toBe('<Buffer 18 bytes>')
    expect(json.cyclic).toEqual({ a: 1, self: '[Circular]' })
  })

  it("'silent' writes nothing", () => {
    const c = recordingConsole()
    const log = loggers.console({ level: 'silent', console: c.console })
    for (const l of ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const) log[l]('m')
    expect(c.lines).toEqual([])
  })
})

describe('loggers.winston()', () => {
  it('maps levels, merges child bindings into the metadata, and skips what winston would drop', () => {
    const w = fakeWinston('info')
    const log = loggers.winston(w).child({ component: 'kafkatune.consumer', clientId: 'c', groupId: 'g' })
    log.debug({ a: 1 }, 'dropped')
    log.info({ topic: 't', partition: 0 }, 'joined')
    log.fatal({ err: new Error('boom') }, 'stopping')
    log.warn('no fields')
    expect(w.calls.map((c) => [c.level, c.message])).toEqual([
      ['info', 'joined'],
      ['error', 'stopping'],
      ['warn', 'no fields'],
    ])
    expect(w.calls[0]!.meta).toEqual({ component: 'kafkatune.consumer', clientId: 'c', groupId: 'g', topic: 't', partition: 0 })
    expect(w.calls[1]!.meta.err).toMatchObject({ type: 'Error', message: 'boom' })
  })

  it("reports winston's level in pino's names (for kafkajs), follows changes, and takes custom level names", () => {
    const w = fakeWinston('verbose')
    const log = loggers.winston(w)
    expect(log.level).toBe('debug')
    w.level = 'silly'
    expect(log.level).toBe('trace')
    const sys = fakeWinston('info')
    loggers.winston(sys, { levels: { warn: 'warning' } }).warn({ message: 'field' }, 'careful')
    // winston would append a `message` field to the line's message: it is renamed.
    expect(sys.calls).toEqual([{ level: 'warning', message: 'careful', meta: { fieldMessage: 'field' } }])
  })

  it('rejects what is not a winston logger', () => {
    expect(() => loggers.winston({} as WinstonLike)).toThrow(/winston logger/)
  })
})

describe('clientLogger', () => {
  it('binds component, clientId and groupId with the same names for every client', () => {
    const lines: Record<string, unknown>[] = []
    const root = pino({ level: 'info' }, new Writable({ write: (c: Buffer, _e, done) => (lines.push(JSON.parse(c.toString()) as Record<string, unknown>), done()) }))
    clientLogger(root, 'consumer', { clientId: 'c', groupId: 'g' }).info('a')
    clientLogger(root, 'producer', { clientId: 'c' }).info('b')
    expect(lines.map(({ component, clientId, groupId }) => ({ component, clientId, groupId }))).toEqual([
      { component: 'kafkatune.consumer', clientId: 'c', groupId: 'g' },
      { component: 'kafkatune.producer', clientId: 'c', groupId: undefined },
    ])
  })
})
