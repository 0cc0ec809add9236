/** loggers.winston() with a real winston logger (winston is a dev dependency only; the adapter is duck-typed). */
import { Writable } from 'node:stream'
import winston from 'winston'
import { describe, expect, it } from 'vitest'
import { resolveProducerConfig } from '../../src/config/index.js'
import { KafkatuneError } from '../../src/errors.js'
import { loggers } from '../../src/index.js'

function winstonToMemory(level: string) {
  const lines: Record<string, unknown>[] = []
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>)
      done()
    },
  })
  const logger = winston.createLogger({ level, format: winston.format.json(), transports: [new winston.transports.Stream({ stream })] })
  return { logger, lines }
}

describe('loggers.winston() with winston', () => {
  it('writes fields, child bindings and errors as JSON metadata at the mapped levels; filters by winston level', async () => {
    const w = winstonToMemory('debug')
    const log = loggers.winston(w.logger).child({ component: 'kafkatune.consumer', clientId: 'c1', groupId: 'g1' })
    expect(log.level).toBe('debug')
    log.trace({ dropped: true }, 'below debug')
    log.debug({ topic: 'orders', partition: 2 }, 'committed offsets')
    log.fatal({ err: new KafkatuneError('HANDLER_FAILED', 'Handler failed on orders[2]@7', { retriable: false }), message: 'a field' }, 'consumer stopping')
    log.warn('no fields')
    await new Promise((r) => setImmediate(r))
    expect(w.lines.map((l) => [l.level, l.message])).toEqual([
      ['debug', 'committed offsets'],
      ['error', 'consumer stopping'],
      ['warn', 'no fields'],
    ])
    expect(w.lines[0]).toMatchObject({ component: 'kafkatune.consumer', clientId: 'c1', groupId: 'g1', topic: 'orders', partition: 2 })
    expect(w.lines[1]).toMatchObject({ fieldMessage: 'a field', err: { type: 'KafkatuneError', code: 'HANDLER_FAILED', message: 'Handler failed on orders[2]@7', retriable: false } })
    expect(w.lines[2]).toMatchObject({ clientId: 'c1', groupId: 'g1' })
  })

  it('is accepted as a logger option, and follows winston level changes', () => {
    const w = winstonToMemory('warn')
    const logger = loggers.winston(w.logger)
    expect(resolveProducerConfig({ brokers: ['127.0.0.1:9092'], logger }).logger).toBe(logger)
    expect(logger.level).toBe('warn')
    w.logger.level = 'silly'
    expect(logger.level).toBe('trace')
  })
})
