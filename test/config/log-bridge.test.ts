import { Writable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { logLevel } from 'kafkajs'
import { pino } from 'pino'
import { kafkajsLogCreator } from '../../src/config/index.js'

function memoryLogger(level: string): { logger: pino.Logger; lines: () => Record<string, unknown>[] } {
  const out: string[] = []
  const stream = new Writable({
    write(chunk, _enc, done) {
      out.push(String(chunk))
      done()
    },
  })
  return { logger: pino({ level }, stream), lines: () => out.join('').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) }
}

const entry = (level: logLevel, message: string) => ({
  namespace: 'Connection',
  level,
  label: 'X',
  log: { timestamp: 'now', logger: 'kafkajs', message, broker: '127.0.0.1:9092', error: 'The group is rebalancing, so a rejoin is needed' },
})

describe('kafkajs log bridge', () => {
  it('sends kafkajs ERROR lines (answers it retries) to debug, keeps WARN, drops them at the default level', () => {
    const all = memoryLogger('trace')
    const log = kafkajsLogCreator(all.logger, { clientId: 'billing-1', groupId: 'billing' })!(logLevel.DEBUG)
    log(entry(logLevel.ERROR, 'Response Heartbeat(key: 12, version: 3)'))
    log(entry(logLevel.WARN, 'The group is rebalancing, re-joining'))
    expect(all.lines().map((l) => [l.level, l.msg, l.component, l.namespace, l.clientId, l.groupId])).toEqual([
      [20, 'Response Heartbeat(key: 12, version: 3)', 'kafkajs', 'Connection', 'billing-1', 'billing'],
      [40, 'The group is rebalancing, re-joining', 'kafkajs', 'Connection', 'billing-1', 'billing'],
    ])

    const atWarn = memoryLogger('warn')
    kafkajsLogCreator(atWarn.logger, { clientId: 'c' })!(logLevel.ERROR)(entry(logLevel.ERROR, 'Crash: KafkaJSConnectionError'))
    expect(atWarn.lines()).toEqual([])
  })
  it("a group kafkajs names that is not the client's goes to kafkajsGroupId; clientId is never repeated", () => {
    const all = memoryLogger('trace')
    const log = kafkajsLogCreator(all.logger, { clientId: 'c1', groupId: 'g1' })!(logLevel.DEBUG)
    const line = (groupId: string) => ({ namespace: 'ConsumerGroup', level: logLevel.INFO, label: 'INFO', log: { timestamp: 'now', logger: 'kafkajs', message: 'm', groupId, clientId: 'c1' } })
    log(line('g1'))
    log(line('other'))
    const raw = all.lines()
    expect(raw.map((l) => [l.groupId, l.kafkajsGroupId])).toEqual([['g1', undefined], ['g1', 'other']])
    expect(raw.map((l) => l.clientId)).toEqual(['c1', 'c1'])
    const producerSide = memoryLogger('trace')
    kafkajsLogCreator(producerSide.logger, { clientId: 'p1' })!(logLevel.DEBUG)(line('tx-1'))
    expect(producerSide.lines()[0]).toMatchObject({ clientId: 'p1', groupId: 'tx-1' })
  })
})
