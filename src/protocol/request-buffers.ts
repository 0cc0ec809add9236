/**
 * Reused Produce request bodies. A fresh 0.3-1.5 MiB body per request costs the kernel a page fault per 4 KiB
 * on first write and V8 a GC of the external memory afterwards (about 0.3 µs per 1 KiB record, measured): a
 * body whose request was answered is handed to the next request instead. Only requests answered without a
 * partition error give their body back: a failed or timed-out request may still sit in a socket's write
 * queue, and a refused batch is resent from its bytes in the body it first went out in.
 */

/** Bodies kept for reuse at most (a producer has at most maxInFlightRequests per broker in flight). */
const MAX_FREE = 8
/** Capacity granularity, so bodies of slightly different sizes share buffers. */
const STEP = 64 * 1024

export class RequestBuffers {
  readonly #free: Buffer[] = []

  /** `size` bytes (contents undefined): a free body at most twice as large, or a new one. */
  take(size: number): Buffer {
    const free = this.#free
    for (let i = free.length - 1; i >= 0; i--) {
      const b = free[i] as Buffer
      if (b.length >= size && b.length <= 2 * size + STEP) {
        free.splice(i, 1)
        return b.subarray(0, size)
      }
    }
    if (size < STEP) return Buffer.allocUnsafe(size)
    return Buffer.allocUnsafeSlow(Math.ceil(size / STEP) * STEP).subarray(0, size)
  }

  /** Gives back a body from `take` that nothing reads any more (its request was answered and no batch of it is resent). */
  give(body: Buffer): void {
    if (body.buffer.byteLength < STEP || body.byteOffset !== 0) return
    const whole = Buffer.from(body.buffer, 0, body.buffer.byteLength)
    const free = this.#free
    if (free.length >= MAX_FREE) free.shift()
    free.push(whole)
  }

  /** Bodies kept for reuse (for tests). */
  get freeCount(): number {
    return this.#free.length
  }
}
