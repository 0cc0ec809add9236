import { KafkatuneError } from '../errors.js'

interface Waiter {
  bytes: number
  resolve: () => void
  reject: (err: KafkatuneError) => void
  timer: NodeJS.Timeout
}

/**
 * buffer.memory: bounds the bytes of records waiting or in flight. `reserve()` grants at once when there
 * is room and nobody waits (FIFO keeps send order), else waits up to max.block.ms.
 */
export class BufferPool {
  private used = 0
  private readonly waiters: Waiter[] = []

  constructor(
    readonly capacity: number,
    private readonly maxBlockMs: number,
  ) {}

  get inUse(): number {
    return this.used
  }

  /** True while some `reserve()` waits for space: batches should go out without lingering. */
  get exhausted(): boolean {
    return this.waiters.length > 0
  }

  /** Reserves synchronously when possible; returns false when the caller must `reserve()` instead. */
  tryReserve(bytes: number): boolean {
    if (this.waiters.length === 0 && this.used + bytes <= this.capacity) {
      this.used += bytes
      return true
    }
    return false
  }

  /** Waits for `bytes` of space; rejects with BUFFER_EXHAUSTED after `timeoutMs` (what is left of max.block.ms). */
  reserve(bytes: number, timeoutMs: number = this.maxBlockMs): Promise<void> {
    if (this.tryReserve(bytes)) return Promise.resolve()
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        bytes,
        resolve,
        reject,
        timer: setTimeout(() => {
          const i = this.waiters.indexOf(waiter)
          if (i >= 0) this.waiters.splice(i, 1)
          reject(
            new KafkatuneError(
              'BUFFER_EXHAUSTED',
              `No buffer space for a ${bytes}-byte record within maxBlockMs (${this.maxBlockMs} ms): ${this.used} of bufferMemory ${this.capacity} bytes are waiting to be sent; raise bufferMemory or send slower`,
              { details: { bytes, inUse: this.used, bufferMemory: this.capacity, maxBlockMs: this.maxBlockMs } },
            ),
          )
          this.grant()
        }, Math.max(0, timeoutMs)),
      }
      this.waiters.push(waiter)
    })
  }

  release(bytes: number): void {
    this.used -= bytes
    this.grant()
  }

  /** Rejects every waiter (close). */
  failWaiters(err: KafkatuneError): void {
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer)
      w.reject(err)
    }
  }

  private grant(): void {
    while (this.waiters.length > 0) {
      const w = this.waiters[0] as Waiter
      if (this.used + w.bytes > this.capacity) return
      this.waiters.shift()
      clearTimeout(w.timer)
      this.used += w.bytes
      w.resolve()
    }
  }
}
