/**
 * OAUTHBEARER tokens: kafkajs asks for a token on every (re-)authentication and leaves caching to the provider.
 * kafkatune keeps the last token and asks the user's provider for a new one once 80% of its lifetime has passed
 * (as the Java client's `sasl.login.refresh.window.factor`), so every connection and every re-authentication
 * that kafkajs does when the broker's session ends (`connections.max.reauth.ms`) presents a token that is valid.
 */
import { KafkatuneError } from '../errors.js'

/** What an `oauthBearerProvider` returns. */
export interface OAuthBearerToken {
  /** The bearer token (e.g. a JWT). Never logged. */
  value: string
  /** SASL extensions sent with the token (e.g. `logicalCluster` on some managed services). */
  extensions?: Record<string, string>
  /**
   * When the token expires, in epoch milliseconds. Without it kafkatune reads the `exp` claim of a JWT, and
   * when there is none either it asks the provider again on every authentication.
   */
  expiresAt?: number
}

/** The fraction of a token's lifetime after which a new one is fetched. */
const REFRESH_FACTOR = 0.8

/** `exp` (seconds) of a JWT/JWS, in epoch ms; undefined when the value is not one. */
export function jwtExpiry(value: string): number | undefined {
  const parts = value.split('.')
  if (parts.length !== 3 || parts[1] === undefined) return undefined
  try {
    const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as { exp?: unknown }
    return typeof claims.exp === 'number' && Number.isFinite(claims.exp) ? claims.exp * 1000 : undefined
  } catch {
    return undefined
  }
}

/**
 * Wraps a user's provider: one call at a time, the token reused until 80% of its lifetime, a typed error
 * (without the token) when the provider returns something unusable.
 */
export function cachingTokenProvider(
  provider: () => Promise<OAuthBearerToken>,
  now: () => number = Date.now,
): () => Promise<{ value: string; extensions?: Record<string, string> }> {
  let cached: { token: OAuthBearerToken; refreshAt: number } | undefined
  let pending: Promise<OAuthBearerToken> | undefined
  const fetchToken = async (): Promise<OAuthBearerToken> => {
    const issued = now()
    let token: OAuthBearerToken
    try {
      token = await provider()
    } catch (err) {
      throw new KafkatuneError('AUTHENTICATION', `SASL OAUTHBEARER: oauthBearerProvider failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err, retriable: true })
    }
    if (token === null || typeof token !== 'object' || typeof token.value !== 'string' || token.value === '') {
      throw new KafkatuneError('AUTHENTICATION', 'SASL OAUTHBEARER: oauthBearerProvider must resolve to { value: string (the token), extensions?, expiresAt? }', { retriable: false })
    }
    const expiresAt = typeof token.expiresAt === 'number' && Number.isFinite(token.expiresAt) ? token.expiresAt : jwtExpiry(token.value)
    cached = expiresAt === undefined ? undefined : { token, refreshAt: issued + (expiresAt - issued) * REFRESH_FACTOR }
    return token
  }
  return async () => {
    let token: OAuthBearerToken
    if (cached !== undefined && now() < cached.refreshAt) token = cached.token
    else {
      pending ??= fetchToken().finally(() => {
        pending = undefined
      })
      token = await pending
    }
    return token.extensions === undefined ? { value: token.value } : { value: token.value, extensions: token.extensions }
  }
}
