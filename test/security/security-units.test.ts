/** Pure parts of the security layer: token caching, TLS error classification, the harness's `security` checks. */
import { describe, expect, it } from 'vitest'
import { ConfigError, isKafkatuneError } from '../../src/errors.js'
import { cachingTokenProvider, jwtExpiry } from '../../src/security/oauth.js'
import { classifyAuthError, classifyTlsConnectError, classifyTlsSocketError } from '../../src/security/transport.js'
import { checkSecurity, unsecuredJws } from '../../src/testing/security.js'

describe('OAUTHBEARER token cache', () => {
  it('reuses a token until 80% of its lifetime, then asks once for a new one', async () => {
    let clock = 1_000_000
    let calls = 0
    const provider = cachingTokenProvider(async () => ({ value: `token-${++calls}`, expiresAt: clock + 10_000 }), () => clock)
    expect((await provider()).value).toBe('token-1')
    clock += 7_999
    expect((await provider()).value).toBe('token-1')
    clock += 2
    const [a, b] = await Promise.all([provider(), provider()])
    expect([a.value, b.value]).toEqual(['token-2', 'token-2'])
    expect(calls).toBe(2)
  })

  it('reads the JWT exp claim when expiresAt is missing; asks every time when neither exists', async () => {
    let clock = Date.UTC(2026, 0, 1)
    const jwt = unsecuredJws('me', 100_000, clock)
    expect(jwtExpiry(jwt)).toBe(clock + 100_000)
    let jwtCalls = 0
    const fromJwt = cachingTokenProvider(async () => (jwtCalls++, { value: jwt }), () => clock)
    await fromJwt()
    clock += 50_000
    await fromJwt()
    expect(jwtCalls).toBe(1)
    let opaqueCalls = 0
    const opaque = cachingTokenProvider(async () => ({ value: `opaque-${++opaqueCalls}` }))
    await opaque()
    await opaque()
    expect(opaqueCalls).toBe(2)
    expect(jwtExpiry('not.a-jwt')).toBeUndefined()
  })

  it('a provider that fails or returns no token gives AUTHENTICATION without the token', async () => {
    await expect(cachingTokenProvider(async () => ({ value: '' }))()).rejects.toMatchObject({ code: 'AUTHENTICATION', retriable: false })
    await expect(cachingTokenProvider(async () => Promise.reject(new Error('idp down')))()).rejects.toMatchObject({ code: 'AUTHENTICATION', retriable: true })
  })
})

describe('TLS and SASL error classification', () => {
  const socketError = (code: string, message = code): Error & { code: string } => Object.assign(new Error(message), { code })

  it('names the fix for each TLS mistake and leaves network trouble alone', () => {
    expect(classifyTlsSocketError(socketError('SELF_SIGNED_CERT_IN_CHAIN'), 'b:1')?.message).toMatch(/not trusted.*ssl\.ca/)
    expect(classifyTlsSocketError(socketError('ERR_TLS_CERT_ALTNAME_INVALID'), 'b:1')?.message).toMatch(/does not name the host/)
    expect(classifyTlsSocketError(socketError('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED'), 'b:1')?.message).toMatch(/ssl\.cert and ssl\.key/)
    expect(classifyTlsSocketError(socketError('ECONNRESET', 'Client network socket disconnected before secure TLS connection was established'), 'b:1')?.message).toMatch(
      /TLS listener/,
    )
    expect(classifyTlsSocketError(socketError('ECONNRESET', 'read ECONNRESET'), 'b:1')).toBeUndefined()
    expect(classifyTlsSocketError(socketError('ECONNREFUSED'), 'b:1')).toBeUndefined()
    const e = classifyTlsSocketError(socketError('CERT_HAS_EXPIRED'), 'b:1')
    expect(e).toMatchObject({ code: 'TLS', retriable: false, details: { broker: 'b:1', tlsCode: 'CERT_HAS_EXPIRED' } })
  })

  it('finds the cause inside kafkajs wrappers', () => {
    const connection = Object.assign(new Error('Connection error: self-signed certificate'), { name: 'KafkaJSConnectionError', code: 'DEPTH_ZERO_SELF_SIGNED_CERT', broker: 'h:9' })
    const retries = Object.assign(new Error('x'), { name: 'KafkaJSNumberOfRetriesExceeded', cause: connection })
    expect(classifyTlsConnectError(retries)).toMatchObject({ code: 'TLS', details: { broker: 'h:9' } })
    const sasl = Object.assign(new Error('SASL PLAIN authentication failed: Invalid username or password'), { name: 'KafkaJSSASLAuthenticationError' })
    const err = classifyAuthError(Object.assign(new Error('wrapped'), { cause: sasl }), 'plain', 'alice')
    expect(isKafkatuneError(err, 'AUTHENTICATION')).toBe(true)
    expect(err?.message).toMatch(/user 'alice' with SASL PLAIN/)
    expect(classifyAuthError(new Error('other'), 'plain', 'alice')).toBeUndefined()
  })
})

describe('startKafka({ security }) validation', () => {
  const problems = (security: unknown): string[] => {
    try {
      checkSecurity(security)
      return []
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError)
      return (err as ConfigError).problems.map((p) => `${p.option}: ${p.message}`)
    }
  }

  it('accepts listeners and mechanisms, defaulting to every mechanism', () => {
    expect(checkSecurity({ listeners: ['sasl-ssl'] })).toEqual({ listeners: ['sasl-ssl'], mechanisms: ['plain', 'scram-sha-256', 'scram-sha-512', 'oauthbearer'] })
    expect(checkSecurity(undefined)).toBeUndefined()
  })

  it('refuses nonsense with CONFIG_INVALID, every problem at once', () => {
    expect(problems({ listeners: [] })).toEqual([expect.stringMatching(/security.listeners: must be a non-empty array/)])
    expect(problems({ listeners: ['ssl', 'ssl', 'tls'], mechanisms: ['kerberos'], tls: true })).toEqual([
      expect.stringMatching(/security.tls: is not an option/),
      expect.stringMatching(/unknown listener 'tls'/),
      expect.stringMatching(/lists a listener twice/),
      expect.stringMatching(/unknown SASL mechanism 'kerberos'/),
    ])
    expect(problems('sasl-ssl')).toEqual([expect.stringMatching(/must be an object/)])
  })
})

describe('startKafka({ security }) outside local mode', () => {
  it('external mode refuses it, container mode checks it, with CONFIG_INVALID before starting anything', async () => {
    const saved = { mode: process.env.KAFKATUNE_KAFKA_MODE, brokers: process.env.KAFKA_BROKERS }
    delete process.env.KAFKATUNE_KAFKA_MODE
    try {
      const { startKafka, startContainerKafka } = await import('../../src/testing/index.js')
      // Container mode takes secured listeners (test/integration/container-security.test.ts) but checks them first.
      await expect(startKafka({ mode: 'container', security: { listeners: ['tls' as 'ssl'] } })).rejects.toMatchObject({ code: 'CONFIG_INVALID' })
      await expect(startContainerKafka({ security: { listeners: [] } })).rejects.toMatchObject({ code: 'CONFIG_INVALID' })
      process.env.KAFKA_BROKERS = '127.0.0.1:9'
      await expect(startKafka({ security: { listeners: ['ssl'] } })).rejects.toThrow(/not for an external cluster/)
      await expect(startKafka({ mode: 'local', security: { listeners: ['nope' as 'ssl'] } })).rejects.toMatchObject({ code: 'CONFIG_INVALID' })
    } finally {
      if (saved.mode === undefined) delete process.env.KAFKATUNE_KAFKA_MODE
      else process.env.KAFKATUNE_KAFKA_MODE = saved.mode
      if (saved.brokers === undefined) delete process.env.KAFKA_BROKERS
      else process.env.KAFKA_BROKERS = saved.brokers
    }
  })
})
