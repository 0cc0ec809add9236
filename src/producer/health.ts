/**
 * A producer's liveness and readiness from what it already knows: its connection state, whether it was
 * fenced, the last produce request's outcome and the buffer (`bufferMemory`) pressure. Nothing is tracked
 * for it on the send path but the outcome of each produce request.
 */
import type { KafkatuneError } from '../errors.js'
import { healthReport } from '../observability/health.js'
import type { Health, HealthCheck } from '../observability/health.js'

/**
 * Options of `producer.health()`.
 * @example producer.health({ bufferReadyRatio: 0.8 })
 */
export interface ProducerHealthOptions {
  /** Share of `bufferMemory` in use from which the producer is not ready (sends are about to block). @default 0.9 */
  bufferReadyRatio?: number
}

/** The producer's state as `producer.ts` keeps it. */
export type ProducerState = 'new' | 'connecting' | 'connected' | 'closing' | 'closed'

/** What the report is made of. */
export interface ProducerHealthInputs {
  state: ProducerState
  fenced: KafkatuneError | null
  bufferInUse: number
  bufferMemory: number
  /** Some send() waits for buffer space now. */
  blocked: boolean
  /** The error of the last produce request when it failed (the sender retries it), null after a success. */
  lastRequestError: KafkatuneError | null
}

export function producerHealth(inputs: ProducerHealthInputs, options: ProducerHealthOptions = {}, now: number = Date.now()): Health {
  const ratio = options.bufferReadyRatio ?? 0.9
  const checks: HealthCheck[] = []
  if (inputs.fenced !== null) checks.push({ name: 'state', ok: false, affects: 'live', detail: `fenced: ${inputs.fenced.message}` })
  else if (inputs.state === 'closing' || inputs.state === 'closed') checks.push({ name: 'state', ok: false, affects: 'live', detail: 'disconnected' })
  else if (inputs.state === 'connected') checks.push({ name: 'state', ok: true, affects: 'ready', detail: 'connected' })
  else checks.push({ name: 'state', ok: false, affects: 'ready', detail: inputs.state === 'connecting' ? 'connecting' : 'not connected' })

  const err = inputs.lastRequestError
  checks.push(
    err === null
      ? { name: 'requests', ok: true, affects: 'ready', detail: 'last produce request succeeded (or none sent yet)' }
      : { name: 'requests', ok: false, affects: 'ready', detail: `last produce request failed (retried until deliveryTimeoutMs): ${err.code}: ${err.message}` },
  )

  const used = `${inputs.bufferInUse} of bufferMemory ${inputs.bufferMemory} bytes in use`
  if (inputs.blocked) checks.push({ name: 'buffer', ok: false, affects: 'ready', detail: `send() waits for buffer space: ${used}` })
  else if (inputs.bufferInUse >= inputs.bufferMemory * ratio) checks.push({ name: 'buffer', ok: false, affects: 'ready', detail: `${used}, at or above ${Math.round(ratio * 100)}%` })
  else checks.push({ name: 'buffer', ok: true, affects: 'ready', detail: used })
  return healthReport(checks, now)
}
