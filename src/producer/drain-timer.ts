/**
 * When the sender runs its next drain pass: as soon as the event loop allows (`wake`, coalesced), or at a
 * given time (`wakeAt`, the earliest asked for wins), and the next time anything is due (`nextDue`).
 */
import type { RecordAccumulator } from './accumulator.js'
import type { OutboundBatch, OutboundRecord } from './sender-types.js'

export class DrainTimer {
  #scheduled = false
  #timer: NodeJS.Timeout | null = null
  #timerAt = Infinity

  constructor(private readonly pass: () => void) {}

  /** Runs a pass as soon as the event loop allows (coalesced). */
  wake(): void {
    if (this.#scheduled) return
    this.#scheduled = true
    setImmediate(() => {
      this.#scheduled = false
      this.pass()
    })
  }

  /** Runs a pass at `at` (ms) unless one is already due earlier. */
  wakeAt(at: number): void {
    if (this.#timer !== null && this.#timerAt <= at) return
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#timerAt = at
    this.#timer = setTimeout(() => {
      this.#timer = null
      this.#timerAt = Infinity
      this.pass()
    }, Math.max(0, at - Date.now()))
  }

  /** Stops the timer (after the last flush). */
  close(): void {
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#timer = null
    this.#timerAt = Infinity
  }
}

/**
 * The next time a pass has work, or null: a queued batch ready to go (lingered, and allowed by `mayGo`), or
 * a queued or in-flight batch reaching its delivery timeout.
 */
export function nextDue(
  acc: RecordAccumulator<OutboundRecord>,
  inFlight: Iterable<OutboundBatch>,
  now: number,
  deliveryTimeoutMs: number,
  mayGo: (topic: string, partition: number, head: OutboundBatch) => boolean,
): number | null {
  let next = acc.nextReadyAt(now, mayGo)
  const oldest = acc.oldestCreatedAt()
  if (oldest !== null) {
    const expiry = oldest + deliveryTimeoutMs
    if (next === null || expiry < next) next = expiry
  }
  for (const b of inFlight) {
    const expiry = b.createdAt + deliveryTimeoutMs
    if (next === null || expiry < next) next = expiry
  }
  return next
}
