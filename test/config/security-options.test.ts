/** `ssl` / `sasl` options: validation without secrets in messages, the kafkajs mapping, explainConfig redaction. */
import fc from 'fast-check'
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { explainConfig, resolveConsumerConfig, resolveProducerConfig, toKafkajsClientConfig } from '../../src/config/index.js'
import type { SaslOptions } from '../../src/config/index.js'
import { ConfigError } from '../../src/errors.js'

const brokers = ['127.0.0.1:9092']
const logger = pino({ level: 'silent' })
const SECRET = 'hunter2-very-secret'

function problemsOf(sasl: unknown): string[] {
  try {
    resolveProducerConfig({ brokers, logger, sasl: sasl as SaslOptions })
    return []
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError)
    const e = err as ConfigError
    expect(e.message).not.toContain(SECRET)
    return e.problems.map((p) => `${p.option}: ${p.message}`)
  }
}

describe('sasl validation', () => {
  it('accepts every supported shape', () => {
    expect(problemsOf({ mechanism: 'plain', username: 'u', password: SECRET })).toEqual([])
    expect(problemsOf({ mechanism: 'scram-sha-256', username: 'u', password: SECRET })).toEqual([])
    expect(problemsOf({ mechanism: 'scram-sha-512', username: 'u', password: SECRET })).toEqual([])
    expect(problemsOf({ mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value: SECRET }) })).toEqual([])
    expect(problemsOf({ mechanism: 'AWS_MSK_IAM', authenticationProvider: () => ({ authenticate: async () => undefined }) })).toEqual([])
  })

  it('refuses nonsense with a message that names the fix and never the secret', () => {
    expect(problemsOf({ mechanism: 'plain', username: '', password: SECRET })).toEqual([expect.stringMatching(/^sasl: .*needs username/)])
    expect(problemsOf({ mechanism: 'scram-sha-256', username: 'u' })).toEqual([expect.stringMatching(/needs password/)])
    expect(problemsOf({ mechanism: 'SCRAM-SHA-256', username: 'u', password: SECRET })).toEqual([expect.stringMatching(/lower case: 'scram-sha-256'/)])
    expect(problemsOf({ mechanism: 'gssapi', username: 'u', password: SECRET })).toEqual([expect.stringMatching(/unknown mechanism 'gssapi'.*authenticationProvider/)])
    expect(problemsOf({ mechanism: 'oauthbearer', token: SECRET })).toEqual([expect.stringMatching(/needs oauthBearerProvider/)])
    expect(problemsOf({ mechanism: 'plain', username: 'u', password: SECRET, extra: SECRET })).toEqual([expect.stringMatching(/unknown key\(s\) extra/)])
    expect(problemsOf({ mechanism: 'x', authenticationProvider: SECRET })).toEqual([expect.stringMatching(/authenticationProvider must be a function/)])
    expect(problemsOf('plain')).toEqual([expect.stringMatching(/must be/)])
  })

  it('never echoes any password it is given (property)', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 8 }), fc.constantFrom('plain', 'PLAIN', 'scram-sha-1', 'oauthbearer', ''), (password, mechanism) => {
        try {
          resolveProducerConfig({ brokers, logger, sasl: { mechanism, username: '', password, junk: password } as unknown as SaslOptions })
        } catch (err) {
          expect((err as Error).message.includes(password)).toBe(false)
        }
      }),
    )
  })

  it('ssl must be a boolean or an options object', () => {
    expect(() => resolveProducerConfig({ brokers, logger, ssl: 'yes' as unknown as boolean })).toThrow(/ssl: must be true\/false or tls.ConnectionOptions/)
  })
})

describe('kafkajs mapping', () => {
  it('password mechanisms pass as they are, on a fresh object per client', () => {
    const s = resolveProducerConfig({ brokers, logger, sasl: { mechanism: 'scram-sha-512', username: 'u', password: SECRET } })
    const a = toKafkajsClientConfig(s)
    const b = toKafkajsClientConfig(s)
    expect(a.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'u', password: SECRET })
    expect(a.sasl).not.toBe(b.sasl)
    expect(Object.isFrozen(a.sasl)).toBe(false)
  })

  it('oauthbearer gets a caching provider; a custom mechanism keeps its authenticationProvider', async () => {
    let calls = 0
    const s = resolveProducerConfig({ brokers, logger, sasl: { mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value: `t${++calls}`, expiresAt: Date.now() + 3_600_000 }) } })
    const sasl = toKafkajsClientConfig(s).sasl as { mechanism: string; oauthBearerProvider: () => Promise<{ value: string }> }
    expect(sasl.mechanism).toBe('oauthbearer')
    expect(await sasl.oauthBearerProvider()).toEqual({ value: 't1' })
    expect(await sasl.oauthBearerProvider()).toEqual({ value: 't1' })
    expect(calls).toBe(1)
    const authenticationProvider = () => ({ authenticate: async () => undefined })
    const custom = resolveProducerConfig({ brokers, logger, sasl: { mechanism: 'AWS_MSK_IAM', authenticationProvider } })
    expect(toKafkajsClientConfig(custom).sasl).toEqual({ mechanism: 'AWS_MSK_IAM', authenticationProvider })
  })

  it('ssl options reach kafkajs untouched (hostname verification is Node’s default)', () => {
    const ssl = { ca: ['PEM'], servername: 'kafka.example.com' }
    expect(toKafkajsClientConfig(resolveConsumerConfig({ brokers, logger, groupId: 'g', topics: ['t'], ssl })).ssl).toEqual(ssl)
  })
})

describe('explainConfig', () => {
  it('shows ssl and sasl with every secret [redacted]', () => {
    const rows = explainConfig('producer', {
      brokers,
      logger,
      ssl: { ca: ['-----BEGIN CERTIFICATE-----'], cert: 'CERT', key: `KEY-${SECRET}`, passphrase: SECRET, rejectUnauthorized: true },
      sasl: { mechanism: 'scram-sha-256', username: 'orders', password: SECRET },
    })
    const text = JSON.stringify(rows)
    expect(text).not.toContain(SECRET)
    expect(rows.find((r) => r.option === 'sasl')?.value).toEqual({ mechanism: 'scram-sha-256', username: 'orders', password: '[redacted]' })
    expect(rows.find((r) => r.option === 'ssl')?.value).toEqual({ ca: '[PEM given]', cert: '[PEM given]', key: '[redacted]', passphrase: '[redacted]', rejectUnauthorized: true })
    const oauth = explainConfig('consumer', { brokers, logger, groupId: 'g', topics: ['t'], sasl: { mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value: SECRET }) } })
    expect(oauth.find((r) => r.option === 'sasl')?.value).toEqual({ mechanism: 'oauthbearer', oauthBearerProvider: '[redacted]' })
  })

  it('has no ssl/sasl rows when they are not set', () => {
    const rows = explainConfig('producer', { brokers, logger })
    expect(rows.map((r) => r.option)).not.toContain('sasl')
    expect(rows.map((r) => r.option)).not.toContain('ssl')
  })
})
