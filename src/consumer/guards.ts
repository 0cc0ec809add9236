/**
 * kafkajs sends heartbeats only between batches and has no max.poll.interval.ms. A guard runs next to
 * one eachBatch call: it heartbeats every `heartbeatIntervalMs` while handlers run, and when one handler
 * call outlives `maxPollIntervalMs` it stops heartbeating so the coordinator evicts this member and the
 * partitions move to a healthy one, as the Java client does.
 */
export interface GuardOptions {
  heartbeatIntervalMs: number
  maxPollIntervalMs: number
  /** Sends one heartbeat (kafkajs' `heartbeat()` from the eachBatch payload). */
  heartbeat: () => Promise<void>
  /** A heartbeat failed: usually the group is rebalancing or this member was evicted. */
  onHeartbeatError: (err: unknown) => void
  /** A handler call outlived `maxPollIntervalMs`; called once per guard. */
  onExceeded: (elapsedMs: number) => void
  now?: () => number
}

/** Keeps a member alive while its handlers run, and lets it go when one runs too long. */
export class HandlerGuard {
  readonly #o: GuardOptions
  readonly #now: () => number
  #timer: NodeJS.Timeout | null = null
  #callStartedAt: number | null = null
  #exceeded = false
  #failed = false
  #beating = false

  constructor(options: GuardOptions) {
    this.#o = options
    this.#now = options.now ?? Date.now
  }

  /** True once a handler call outlived `maxPollIntervalMs` (the member no longer heartbeats). */
  get exceeded(): boolean {
    return this.#exceeded
  }

  start(): void {
    if (this.#timer !== null) return
    const period = Math.max(100, Math.min(this.#o.heartbeatIntervalMs, Math.floor(this.#o.maxPollIntervalMs / 4)))
    this.#timer = setInterval(() => this.tick(), period)
    this.#timer.unref()
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer)
    this.#timer = null
  }

  /** When the running handler call began (ms since the epoch); null between calls. */
  get callStartedAt(): number | null {
    return this.#callStartedAt
  }

  /** A handler call begins. */
  enter(): void {
    this.#callStartedAt = this.#now()
  }

  /** The handler call returned (or threw); returns how long it took. */
  leave(): number {
    const started = this.#callStartedAt
    this.#callStartedAt = null
    return started === null ? 0 : this.#now() - started
  }

  /** One timer step; public so tests can drive it with a fake clock. */
  tick(): void {
    if (this.#exceeded || this.#failed) return
    if (this.#callStartedAt !== null) {
      const elapsed = this.#now() - this.#callStartedAt
      if (elapsed > this.#o.maxPollIntervalMs) {
        this.#exceeded = true
        this.stop()
        this.#o.onExceeded(elapsed)
        return
      }
    }
    if (this.#beating) return
    this.#beating = true
    this.#o
      .heartbeat()
      .catch((err: unknown) => {
        // After a failed heartbeat the member must rejoin; more heartbeats would fail the same way.
        this.#failed = true
        this.#o.onHeartbeatError(err)
      })
      .finally(() => {
        this.#beating = false
      })
  }
}
