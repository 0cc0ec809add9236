/**
 * A consumer's liveness and readiness, as Karafka's liveness listener: a polling TTL (the fetch loop is
 * alive), a consuming TTL (no handler call is stuck) and the group membership (joined, not rebalancing).
 * Fed with timestamp writes only: one per fetch request and one per membership change; the running handler
 * calls are read from the loop when `health()` is asked, so the hot path pays nothing per record.
 */
import type { Consumer as KafkajsConsumer } from 'kafkajs'
import { healthReport } from '../observability/health.js'
import type { Health, HealthCheck } from '../observability/health.js'

/**
 * TTLs of `consumer.health()` / `pipeline.health()`.
 * @example consumer.health({ consumeTtlMs: 30_000 }) // a handler call running 30 s fails liveness
 */
export interface ConsumerHealthOptions {
  /**
   * Longest time without a fetch request while running before liveness fails: the fetch loop is dead or
   * cannot reach the cluster. Fetches pause while a handler runs and during rebalances, hence the slack.
   * @default maxPollIntervalMs + sessionTimeoutMs
   */
  pollTtlMs?: number
  /**
   * Longest one handler call may run before liveness fails (it is stuck: kafkatune already gave its
   * partition up at `maxPollIntervalMs`, but a JavaScript call cannot be killed).
   * @default maxPollIntervalMs
   */
  consumeTtlMs?: number
}

/**
 * The lifecycle state of a consumer (as `consumer.ts` keeps it) or a pipeline. `stopped` is a pipeline's
 * after `stop()` completed: unlike a consumer, it cannot run again.
 */
export type LifecycleState = 'created' | 'connected' | 'running' | 'stopping' | 'stopped' | 'failed'

/** What liveness reads from the consumer around it when asked. */
export interface LivenessHost {
  state(): LifecycleState
  /** The error that stopped the consumer, if one did. */
  failure(): { message: string } | null
  /** Start (ms since the epoch) of the oldest handler call still running; null when none runs. */
  oldestCallStartedAt(): number | null
}

type GroupState = 'joining' | 'member' | 'rebalancing'

/** One per consumer (or pipeline). */
export class ConsumerLiveness {
  #lastPollAt = 0
  #group: GroupState = 'joining'
  #groupSince = 0
  #assigned = 0

  constructor(
    private readonly limits: { maxPollIntervalMs: number; sessionTimeoutMs: number },
    private readonly host: LivenessHost,
    private readonly now: () => number = Date.now,
  ) {}

  /** run() starts consuming: polling is measured from now, and the member is joining. */
  started(): void {
    this.#lastPollAt = this.now()
    this.#group = 'joining'
    this.#groupSince = this.#lastPollAt
  }

  /** A fetch request starts (kafkajs' FETCH_START). */
  polled(): void {
    this.#lastPollAt = this.now()
  }

  /** The member joined with `partitions` partitions assigned. */
  joined(partitions: number): void {
    this.#assigned = partitions
    this.#setGroup('member')
  }

  /** The member is about to rejoin (a rebalance, an eviction, or it gave its partitions up). */
  rebalancing(): void {
    this.#setGroup('rebalancing')
  }

  /** kafkajs restarts the consumer after a crash: it joins again. */
  rejoining(): void {
    this.#setGroup('joining')
  }

  #setGroup(state: GroupState): void {
    if (this.#group === state) return
    this.#group = state
    this.#groupSince = this.now()
  }

  /** Feeds this object from a kafkajs consumer's instrumentation events; returns the unsubscribe function. */
  watch(consumer: Pick<KafkajsConsumer, 'on' | 'events'>): () => void {
    const e = consumer.events
    const offs = [
      consumer.on(e.FETCH_START, () => this.polled()),
      consumer.on(e.GROUP_JOIN, ({ payload }) => this.joined(Object.values(payload.memberAssignment).reduce((n, ps) => n + ps.length, 0))),
      consumer.on(e.REBALANCING, () => this.rebalancing()),
      consumer.on(e.CRASH, ({ payload }) => {
        if (payload.restart) this.rejoining()
      }),
    ]
    return () => {
      for (const off of offs) off()
    }
  }

  health(options: ConsumerHealthOptions = {}): Health {
    const now = this.now()
    const pollTtlMs = options.pollTtlMs ?? this.limits.maxPollIntervalMs + this.limits.sessionTimeoutMs
    const consumeTtlMs = options.consumeTtlMs ?? this.limits.maxPollIntervalMs
    const state = this.host.state()
    const failure = this.host.failure()
    const running = state === 'running' && failure === null
    const checks: HealthCheck[] = [stateCheck(state, failure)]

    const sincePoll = now - this.#lastPollAt
    checks.push(
      running
        ? { name: 'poll', ok: sincePoll <= pollTtlMs, affects: 'live', detail: `last fetch ${sincePoll} ms ago (ttl ${pollTtlMs} ms)` }
        : { name: 'poll', ok: true, affects: 'live', detail: 'not consuming' },
    )

    const oldest = this.host.oldestCallStartedAt()
    const callMs = oldest === null ? 0 : now - oldest
    checks.push(
      oldest === null
        ? { name: 'consume', ok: true, affects: 'live', detail: 'no handler call running' }
        : { name: 'consume', ok: callMs <= consumeTtlMs, affects: 'live', detail: `oldest handler call running for ${callMs} ms (ttl ${consumeTtlMs} ms)` },
    )

    const since = now - this.#groupSince
    let group: HealthCheck
    if (!running) group = { name: 'group', ok: true, affects: 'ready', detail: 'not a member (not consuming)' }
    else if (this.#group === 'joining') group = { name: 'group', ok: false, affects: 'ready', detail: `joining the group for ${since} ms` }
    else if (this.#group === 'rebalancing') group = { name: 'group', ok: false, affects: 'ready', detail: `rebalancing for ${since} ms` }
    else if (this.#assigned === 0) group = { name: 'group', ok: true, affects: 'ready', detail: 'member with no partitions assigned (idle: more members than partitions)' }
    else group = { name: 'group', ok: true, affects: 'ready', detail: `member with ${this.#assigned} partition(s) assigned` }
    checks.push(group)
    return healthReport(checks, now)
  }
}

function stateCheck(state: LifecycleState, failure: { message: string } | null): HealthCheck {
  if (failure !== null || state === 'failed') return { name: 'state', ok: false, affects: 'live', detail: `stopped by an error: ${failure?.message ?? 'unknown'}` }
  switch (state) {
    case 'running':
      return { name: 'state', ok: true, affects: 'ready', detail: 'running' }
    case 'stopping':
      return { name: 'state', ok: false, affects: 'ready', detail: 'stopping' }
    case 'stopped':
      return { name: 'state', ok: false, affects: 'ready', detail: 'stopped (stop() completed)' }
    case 'connected':
      return { name: 'state', ok: false, affects: 'ready', detail: 'connected, not consuming (run() not called, or stopped)' }
    default:
      return { name: 'state', ok: false, affects: 'ready', detail: 'not connected' }
  }
}

/** The earliest `callStartedAt` among `guards` (handler guards of running calls), null when none runs. */
export function oldestCall(guards: Iterable<{ readonly callStartedAt: number | null }>): number | null {
  let oldest: number | null = null
  for (const g of guards) {
    const started = g.callStartedAt
    if (started !== null && (oldest === null || started < oldest)) oldest = started
  }
  return oldest
}
