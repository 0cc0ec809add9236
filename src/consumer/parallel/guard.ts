/** maxPollIntervalMs for out-of-order processing: how often it is checked and what an overrun reports. */
import { KafkatuneError } from '../../errors.js'
import type { MaxPollIntervalExceededEvent } from '../types.js'

/** A timer that checks the running records often enough to notice an overrun within a quarter of the limit. */
export function startGuardTimer(maxPollIntervalMs: number, check: () => void): NodeJS.Timeout {
  const timer = setInterval(check, Math.max(100, Math.min(1000, Math.floor(maxPollIntervalMs / 4))))
  timer.unref()
  return timer
}

/** The event, the error (its signal's reason, and the consumer's failure when no rejoin is possible) and the log line of an overrun. */
export function overrun(record: { topic: string; partition: number; offset: string }, elapsedMs: number, maxPollIntervalMs: number): { event: MaxPollIntervalExceededEvent; error: KafkatuneError; message: string } {
  const { topic, partition, offset } = record
  const event = { topic, partition, offset, elapsedMs, maxPollIntervalMs }
  return {
    event,
    error: new KafkatuneError('MAX_POLL_INTERVAL_EXCEEDED', `handler outlived maxPollIntervalMs at ${topic}[${partition}]@${offset}`, { retriable: false, details: { ...event } }),
    message: `handler ran ${elapsedMs} ms, longer than maxPollIntervalMs (${maxPollIntervalMs}): the record stays uncommitted and this member leaves the group and joins again`,
  }
}
