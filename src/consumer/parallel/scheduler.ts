/**
 * Schedules record tasks on one `p-queue` (the consumer-wide concurrency limit). With ordering 'key' a key has
 * at most one task in the queue or running; the next one of that key is queued when it finishes, so a key's
 * records run one after another in the order they were added while other keys overtake a slow one. With
 * 'unordered' every task goes straight to the queue.
 */
import PQueue from 'p-queue'

export type Task = () => Promise<void>

export class KeyScheduler {
  readonly #queue: PQueue
  /** Per key: the tasks waiting behind the one queued or running. */
  readonly #waiting = new Map<string, Task[]>()
  #tasks = 0
  #keysWaiting = 0
  #idleWaiters: (() => void)[] = []

  constructor(
    concurrency: number,
    private readonly byKey: boolean,
  ) {
    this.#queue = new PQueue({ concurrency })
  }

  /** Tasks added and not finished (queued, waiting behind their key, or running). */
  get size(): number {
    return this.#tasks
  }

  /** Tasks running now. */
  get running(): number {
    return this.#queue.pending
  }

  /** Keys with tasks waiting behind a running or queued one. */
  get keysWaiting(): number {
    return this.#keysWaiting
  }

  /** Adds a task; `key` is only looked at with ordering 'key'. */
  add(key: string, task: Task): void {
    this.#tasks++
    if (!this.byKey) {
      this.#enqueue(null, task)
      return
    }
    const waiting = this.#waiting.get(key)
    if (waiting !== undefined) {
      if (waiting.length === 0) this.#keysWaiting++
      waiting.push(task)
      return
    }
    this.#waiting.set(key, [])
    this.#enqueue(key, task)
  }

  #enqueue(key: string | null, task: Task): void {
    // Tasks report their own failures; a rejection here would be a bug in the loop, not a record's failure.
    void this.#queue.add(async () => {
      try {
        await task()
      } finally {
        this.#done(key)
      }
    })
  }

  #done(key: string | null): void {
    if (key !== null) {
      const waiting = this.#waiting.get(key)!
      const next = waiting.shift()
      if (next === undefined) this.#waiting.delete(key)
      else {
        if (waiting.length === 0) this.#keysWaiting--
        this.#enqueue(key, next)
      }
    }
    this.#tasks--
    if (this.#tasks === 0) {
      const waiters = this.#idleWaiters
      this.#idleWaiters = []
      for (const w of waiters) w()
    }
  }

  /** Resolves when every added task finished. */
  idle(): Promise<void> {
    if (this.#tasks === 0) return Promise.resolve()
    return new Promise((resolve) => this.#idleWaiters.push(resolve))
  }
}
