/**
 * `sasl` option checks and how it shows in `explainConfig`. Messages name options, never values: a password
 * or token must not reach an error message.
 */
const PASSWORD_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512']
const HINT = "{ mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512', username, password }, { mechanism: 'oauthbearer', oauthBearerProvider } or { mechanism, authenticationProvider }"

/** What is wrong with a `sasl` option, or undefined when it is usable. */
export function saslProblem(value: unknown): string | undefined {
  if (value === undefined) return undefined
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return `must be ${HINT}`
  const v = value as Record<string, unknown>
  const keys = Object.keys(v)
  if (typeof v.mechanism !== 'string' || v.mechanism === '') return `needs a mechanism: ${HINT}`
  const mechanism = v.mechanism
  const extra = (allowed: string[]): string | undefined => {
    const unknown = keys.filter((k) => !allowed.includes(k))
    return unknown.length > 0 ? `has unknown key(s) ${unknown.join(', ')} for mechanism '${mechanism}' (takes ${allowed.join(', ')})` : undefined
  }
  if (typeof v.authenticationProvider === 'function') return extra(['mechanism', 'authenticationProvider'])
  if (v.authenticationProvider !== undefined) return 'authenticationProvider must be a function (a kafkajs authentication provider)'
  if (PASSWORD_MECHANISMS.includes(mechanism)) {
    if (typeof v.username !== 'string' || v.username === '') return `mechanism '${mechanism}' needs username (a non-empty string)`
    if (typeof v.password !== 'string') return `mechanism '${mechanism}' needs password (a string)`
    return extra(['mechanism', 'username', 'password'])
  }
  if (mechanism === 'oauthbearer') {
    if (typeof v.oauthBearerProvider !== 'function') return "mechanism 'oauthbearer' needs oauthBearerProvider: an async function returning { value: token, expiresAt? }"
    return extra(['mechanism', 'oauthBearerProvider'])
  }
  if (PASSWORD_MECHANISMS.includes(mechanism.toLowerCase()) || mechanism.toLowerCase() === 'oauthbearer') {
    return `mechanism '${mechanism}' is spelt in lower case: '${mechanism.toLowerCase()}'`
  }
  return `unknown mechanism '${mechanism}': use plain, scram-sha-256, scram-sha-512, oauthbearer, or give an authenticationProvider for a custom mechanism`
}

export const REDACTED = '[redacted]'

/** `sasl` for display: mechanism and username only. */
export function redactSasl(value: unknown): unknown {
  if (value === undefined || value === null || typeof value !== 'object') return value
  const v = value as Record<string, unknown>
  const out: Record<string, unknown> = { mechanism: v.mechanism }
  if (typeof v.username === 'string') out.username = v.username
  for (const k of Object.keys(v)) if (!(k in out)) out[k] = REDACTED
  return out
}

/** TLS options that are secret: private keys, their passphrases, PKCS#12 bundles. */
const SECRET_TLS = new Set(['key', 'passphrase', 'pfx', 'privateKeyEngine', 'privateKeyIdentifier', 'pskCallback', 'secureContext'])

/** `ssl` for display: booleans and plain settings as they are, secrets `[redacted]`, PEM blobs summarised. */
export function redactSsl(value: unknown): unknown {
  if (value === undefined || value === null || typeof value !== 'object') return value
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (SECRET_TLS.has(k)) out[k] = REDACTED
    else if (k === 'ca' || k === 'cert' || k === 'crl') out[k] = '[PEM given]'
    else if (typeof v === 'function') out[k] = '[function]'
    else out[k] = v
  }
  return out
}
