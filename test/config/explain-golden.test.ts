import { describe, expect, it } from 'vitest'
import { pino } from 'pino'
import { explainConfig } from '../../src/config/index.js'
import type { BuiltinPresetName } from '../../src/config/types.js'

/**
 * explainConfig for every preset and side, as the settings table derives it: a change of a Java name, a
 * default or a reason shows here first.
 */
const brokers = ['127.0.0.1:9092']
const logger = pino({ level: 'silent' })
const choices: (BuiltinPresetName | undefined)[] = [undefined, 'low-latency', 'high-throughput', 'exactly-once']

describe('explainConfig (golden)', () => {
  for (const preset of choices) {
    const name = preset ?? 'java-defaults'
    const tx = preset === 'exactly-once' ? { transactionalId: 'tx-1' } : {}
    it(`producer: ${name}`, () => {
      expect(explainConfig('producer', { brokers, logger, ...(preset ? { preset } : {}), ...tx } as never)).toMatchSnapshot()
    })
    it(`consumer: ${name}`, () => {
      expect(explainConfig('consumer', { brokers, logger, groupId: 'g', topics: ['t'], ...(preset ? { preset } : {}) })).toMatchSnapshot()
    })
    if (preset !== undefined) {
      it(`pipeline: ${name}`, () => {
        const rows = explainConfig('pipeline', { brokers, logger, groupId: 'g', from: 'in', to: 'out', transactionalIdPrefix: 'tx', transform: () => null, preset } as never)
        expect(rows).toMatchSnapshot()
      })
    }
  }

  it('producer and consumer with every security and custom option', () => {
    const custom = { name: 'json', serialize: () => Buffer.alloc(0), deserialize: () => null }
    expect(
      explainConfig('producer', { brokers, logger, ssl: true, sasl: { mechanism: 'plain', username: 'u', password: 'p' }, partitioner: () => 0, valueSerializer: custom as never, lingerMs: 7 }),
    ).toMatchSnapshot()
    expect(
      explainConfig('consumer', { brokers, logger, groupId: 'g', topics: ['t'], retry: { attempts: 3, backoffMs: 10 }, deadLetterTopic: 'dlq', ordering: 'key', concurrency: 4 }),
    ).toMatchSnapshot()
  })
})
