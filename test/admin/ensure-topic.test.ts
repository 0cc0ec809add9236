import { describe, expect, it } from 'vitest'
import { pino } from 'pino'
import { createAdmin } from '../../src/admin/index.js'
import { ConfigError } from '../../src/errors.js'

// Port 1 on loopback: nothing listens, so an options check that let a request out would fail with KAFKA instead.
const admin = () => createAdmin({ brokers: ['127.0.0.1:1'], logger: pino({ level: 'silent' }), kafkajs: { retry: { retries: 0 } } } as never)

async function problemsOf(options: unknown): Promise<{ option: string; message: string }[]> {
  const err = await admin()
    .ensureTopic(options as never)
    .then(() => null, (e: unknown) => e)
  expect(err).toBeInstanceOf(ConfigError)
  return [...(err as ConfigError).problems]
}

describe('admin.ensureTopic options', () => {
  it('refuses what the broker would refuse before any request, naming the option', async () => {
    expect(await problemsOf({ partitions: 3 })).toEqual([{ option: 'name', message: expect.stringMatching(/^required: 1-249 characters/) }])
    expect((await problemsOf({ name: 'has space' }))[0]).toEqual({ option: 'name', message: expect.stringMatching(/^'has space' is not a topic name/) })
    expect((await problemsOf({ name: '..' }))[0]?.option).toBe('name')
    expect((await problemsOf({ name: 'x'.repeat(250) }))[0]?.option).toBe('name')
    expect(await problemsOf({ name: 't', partitions: 0, replicationFactor: 0, config: { 'retention.ms': 5 } })).toEqual([
      { option: 'partitions', message: 'must be an integer >= 1, got 0' },
      { option: 'replicationFactor', message: expect.stringMatching(/^must be an integer >= 1 \(or -1/) },
      { option: 'config.retention.ms', message: 'topic config values are strings, got number' },
    ])
    expect(await problemsOf({ name: 't', preset: 'turbo' })).toEqual([{ option: 'preset', message: expect.stringMatching(/^unknown preset 'turbo'/) }])
    expect(await problemsOf(undefined)).toEqual([{ option: '(options)', message: expect.stringMatching(/needs an options object/) }])
  })
})
