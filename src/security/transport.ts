/**
 * Fail fast on TLS and authentication mistakes. kafkajs wraps every socket error in a retriable
 * `KafkaJSConnectionError` and retries it for its whole retry budget, so an untrusted certificate or a TLS client
 * on a plaintext port looks like a flaky network for seconds on end. kafkatune watches the sockets kafkajs opens
 * (through kafkajs's `socketFactory` option), recognises the mistakes that no retry can fix, and ends the connect
 * call at once with a non-retriable `TLS` or `AUTHENTICATION` error that says what to check.
 */
import net from 'node:net'
import type { Socket } from 'node:net'
import tls from 'node:tls'
import type { ISocketFactory } from 'kafkajs'
import { KafkatuneError } from '../errors.js'

const KEEP_ALIVE_MS = 60_000

/** Certificate verification failures (OpenSSL verify codes as Node reports them). */
const UNTRUSTED = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'INVALID_CA',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_SIGNATURE_ALGORITHM_UNSUPPORTED',
])

/** A fatal transport problem seen on one of a client's sockets, for the connect call that is waiting. */
export class TransportWatch {
  private readonly waiting = new Set<(err: KafkatuneError) => void>()

  report(err: KafkatuneError): void {
    for (const notify of this.waiting) notify(err)
  }

  /** Calls `notify` with the next fatal problem until the returned function is called. */
  subscribe(notify: (err: KafkatuneError) => void): () => void {
    this.waiting.add(notify)
    return () => this.waiting.delete(notify)
  }
}

function tlsError(message: string, broker: string, code: string | undefined): KafkatuneError {
  return new KafkatuneError('TLS', message, { retriable: false, details: { broker, ...(code === undefined ? {} : { tlsCode: code }) } })
}

/** The TLS mistake behind a socket error on a TLS connection, or undefined for ordinary network trouble. */
export function classifyTlsSocketError(err: Error & { code?: string }, broker: string): KafkatuneError | undefined {
  const code = err.code
  if (code !== undefined && UNTRUSTED.has(code)) {
    return tlsError(
      `TLS: the certificate of broker ${broker} is not trusted (${code}): pass the CA that signed it as ssl.ca (PEM), or check that the certificate has not expired`,
      broker,
      code,
    )
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return tlsError(
      `TLS: the certificate of broker ${broker} does not name the host the client connected to (${err.message}): connect by a name or IP in its subjectAltName (also the advertised listener), or fix the certificate; hostname verification stays on`,
      broker,
      code,
    )
  }
  if (code !== undefined && /^ERR_SSL_/.test(code)) {
    const clientCert = /CERTIFICATE_REQUIRED|BAD_CERTIFICATE|UNKNOWN_CA|HANDSHAKE_FAILURE/.test(code)
    return tlsError(
      clientCert
        ? `TLS: broker ${broker} refused the handshake (${code}): if its listener requires a client certificate (ssl.client.auth=required) pass ssl.cert and ssl.key signed by a CA the broker trusts`
        : `TLS: the handshake with broker ${broker} failed (${code}): check that host:port is a TLS listener (SSL or SASL_SSL) and the TLS versions and ciphers both sides allow`,
      broker,
      code,
    )
  }
  if (code === 'ECONNRESET' && /before secure TLS connection was established/.test(err.message)) {
    return tlsError(
      `TLS: broker ${broker} closed the connection during the TLS handshake: is ${broker} a TLS listener? For a PLAINTEXT or SASL_PLAINTEXT listener remove the ssl option (or use the broker's SSL/SASL_SSL port)`,
      broker,
      code,
    )
  }
  return undefined
}

/** A TLS record header (alert 0x15 or handshake 0x16, version 3.x) where a Kafka response was expected. */
function looksLikeTls(chunk: Buffer): boolean {
  return chunk.length >= 2 && (chunk[0] === 0x15 || chunk[0] === 0x16) && chunk[1] === 0x03
}

/** kafkajs's `socketFactory`, watching each socket for the mistakes `classifyTlsSocketError` knows. */
export function watchedSocketFactory(watch: TransportWatch, base?: ISocketFactory): ISocketFactory {
  return ({ host, port, ssl, onConnect }) => {
    const broker = `${host}:${port}`
    let socket: Socket
    if (base !== undefined) socket = base({ host, port, ssl, onConnect })
    else if (ssl) {
      // No SNI for an IP address (RFC 6066; Node warns about it); the certificate is still checked against it.
      socket = tls.connect({ host, port, ...(net.isIP(host) ? {} : { servername: host }), ...ssl }, onConnect)
      socket.setKeepAlive(true, KEEP_ALIVE_MS)
      // As the Java client (TCP_NODELAY): a small request written while an earlier one is unacknowledged
      // must not wait for Nagle's algorithm and the broker's delayed ACK (up to 40 ms on Linux).
      socket.setNoDelay(true)
    } else {
      socket = net.connect({ host, port, noDelay: true }, onConnect)
      socket.setKeepAlive(true, KEEP_ALIVE_MS)
    }
    if (ssl) {
      socket.once('error', (err: Error & { code?: string }) => {
        const fatal = classifyTlsSocketError(err, broker)
        if (fatal !== undefined) watch.report(fatal)
      })
    } else {
      socket.once('data', (chunk: Buffer) => {
        if (looksLikeTls(chunk)) {
          watch.report(
            tlsError(
              `TLS: broker ${broker} answered with TLS, so it is an SSL or SASL_SSL listener: set ssl (ssl: true, or { ca } for a private CA) or use its PLAINTEXT / SASL_PLAINTEXT port`,
              broker,
              undefined,
            ),
          )
        }
      })
    }
    return socket
  }
}

function chain(err: unknown): unknown[] {
  const out: unknown[] = []
  for (let e = err, depth = 0; e !== undefined && e !== null && depth < 8; depth++) {
    out.push(e)
    const next = (e as { cause?: unknown; originalError?: unknown }).cause ?? (e as { originalError?: unknown }).originalError
    if (next === e) break
    e = next
  }
  return out
}

const SASL_ERROR_TYPES = new Set(['SASL_AUTHENTICATION_FAILED', 'UNSUPPORTED_SASL_MECHANISM', 'ILLEGAL_SASL_STATE'])

/** `AUTHENTICATION` for a SASL failure anywhere in a kafkajs error's cause chain (no secret is in its message). */
export function classifyAuthError(err: unknown, mechanism: string | undefined, username: string | undefined): KafkatuneError | undefined {
  // kafkajs's own mechanisms throw KafkaJSSASLAuthenticationError; a custom authenticationProvider meets the
  // broker's answer as a protocol error with a SASL type.
  const sasl = chain(err).find(
    (e) => e instanceof Error && (e.name === 'KafkaJSSASLAuthenticationError' || SASL_ERROR_TYPES.has(String((e as { type?: unknown }).type))),
  ) as Error | undefined
  if (sasl === undefined) return undefined
  const who = username === undefined ? '' : ` as user '${username}'`
  const type = (sasl as { type?: unknown }).type
  const hint =
    /not supported by the server/.test(sasl.message) || type === 'UNSUPPORTED_SASL_MECHANISM'
      ? `the listener does not enable SASL ${mechanism?.toUpperCase() ?? ''}: use a mechanism in its sasl.enabled.mechanisms`
      : type === 'ILLEGAL_SASL_STATE'
        ? 'the broker did not expect SASL here: if this is a PLAINTEXT or SSL listener remove sasl (or use the SASL_PLAINTEXT / SASL_SSL port); during re-authentication it means the broker refused the new session (e.g. a token about to expire)'
        : 'check sasl.username and sasl.password (or the token your oauthBearerProvider returns), that the user exists for this mechanism (SCRAM users are per mechanism), and that this is the right listener'
  return new KafkatuneError('AUTHENTICATION', `Authentication failed${who} with SASL ${mechanism?.toUpperCase() ?? '?'} (${sasl.message}): ${hint}`, {
    retriable: false,
    cause: sasl,
    details: { mechanism },
  })
}

/** The TLS error behind a connect failure that kafkajs gave up on (after its retries), if any. */
export function classifyTlsConnectError(err: unknown): KafkatuneError | undefined {
  for (const e of chain(err)) {
    const x = e as { name?: string; code?: string; message?: string; broker?: string }
    if (x.name !== 'KafkaJSConnectionError' || x.code === undefined) continue
    const inner = Object.assign(new Error((x.message ?? '').replace(/^Connection error: /, '')), { code: x.code })
    const fatal = classifyTlsSocketError(inner, x.broker ?? '?')
    if (fatal !== undefined) return fatal
  }
  return undefined
}
