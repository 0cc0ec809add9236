/**
 * Pure helpers of the sender: forming bounded produce requests out of drained batches, sorting a failed
 * request's per-partition answers, and the delivery-timeout error.
 */
import { KafkatuneError } from '../errors.js'
import { backoffMs } from '../util/backoff.js'
import type { OutboundBatch, PartitionAckResult, SendFailure, SenderOptions } from './sender-types.js'
import type { PartitionSequences } from './sequences.js'

/** Most records in one produce request (all partitions together). */
export const MAX_REQUEST_RECORDS = 20_000

/**
 * The next request out of `batches` from index `from`: batches in order while the request stays within
 * `maxBytes` and MAX_REQUEST_RECORDS; an isolated batch goes alone. Returns the request and the next index.
 */
export function nextRequest(batches: readonly OutboundBatch[], from: number, maxBytes: number, isolated: (b: OutboundBatch) => boolean): { request: OutboundBatch[]; next: number; bytes: number; records: number } {
  const request: OutboundBatch[] = []
  let bytes = 0
  let records = 0
  let i = from
  while (i < batches.length) {
    const b = batches[i] as OutboundBatch
    const alone = isolated(b)
    if (request.length > 0 && (alone || bytes + b.bytes > maxBytes || records + b.records.length > MAX_REQUEST_RECORDS)) break
    request.push(b)
    bytes += b.bytes
    records += b.records.length
    i++
    if (alone) break
  }
  return { request, next: i, bytes, records }
}

/**
 * A failed request's batches sorted by their partitions' answers: the accepted ones, and the refused ones
 * grouped by error. Null when the answers do not cover every batch.
 */
export function splitResults(batches: readonly OutboundBatch[], results: readonly PartitionAckResult[]): { accepted: OutboundBatch[]; refused: Map<Error, OutboundBatch[]> } | null {
  const byPartition = new Map<string, PartitionAckResult>()
  for (const r of results) byPartition.set(`${r.topic}\u0000${r.partition}`, r)
  if (!batches.every((b) => byPartition.has(`${b.topic}\u0000${b.partition}`))) return null
  const accepted: OutboundBatch[] = []
  const refused = new Map<Error, OutboundBatch[]>()
  for (const b of batches) {
    const r = byPartition.get(`${b.topic}\u0000${b.partition}`) as PartitionAckResult
    if (r.error === null) {
      accepted.push(b)
    } else {
      const list = refused.get(r.error) ?? []
      list.push(b)
      refused.set(r.error, list)
    }
  }
  return { accepted, refused }
}

/** DELIVERY_TIMEOUT for `b`, with the last error that kept it from being acknowledged. */
export function deliveryTimeoutError(b: OutboundBatch, deliveryTimeoutMs: number, cause: KafkatuneError | null): KafkatuneError {
  return new KafkatuneError(
    'DELIVERY_TIMEOUT',
    `${b.records.length} record(s) for ${b.topic}[${b.partition}] not acknowledged within deliveryTimeoutMs (${deliveryTimeoutMs} ms)${cause === null ? '' : `; last error: ${cause.message}`}`,
    { cause: cause ?? undefined, details: { topic: b.topic, partition: b.partition, attempts: b.attempts } },
  )
}

/**
 * A failed batch's next attempt (counted here): when it may go again (null: right behind the batch its
 * partition retries first), or the error it fails with when out of time or attempts.
 */
export function retryAt(b: OutboundBatch, failure: SendFailure, now: number, options: SenderOptions, seq: PartitionSequences | null): number | null | KafkatuneError {
  b.attempts++
  if (now - b.createdAt >= options.deliveryTimeoutMs) return deliveryTimeoutError(b, options.deliveryTimeoutMs, failure.error)
  if (b.attempts > options.retries) return failure.error
  if (failure.kind === 'reset') return 0
  // A batch behind a retried one waits for it, not for a back-off of its own.
  if (seq !== null && !seq.isNextToRetry(b)) return null
  return now + backoffMs(Math.min(b.attempts, 21), { baseMs: options.retryBackoffMs, maxMs: options.retryBackoffMaxMs })
}
