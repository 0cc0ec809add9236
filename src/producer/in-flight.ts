/**
 * What the sender has on the wire: requests per broker, the batches inside them, and the callers waiting
 * for none. A sequence resolution or a reset counts as a request (`hold`): no reset starts while one runs,
 * and nobody waiting for idle is woken.
 */
import type { OutboundBatch } from './sender-types.js'
import { once } from '../util/once.js'

export class InFlight {
  private readonly perBroker = new Map<number, number>()
  private count = 0
  private held = 0
  /** Batches inside a request right now. */
  readonly batches = new Set<OutboundBatch>()
  private idleWaiters: (() => void)[] = []

  /** Produce requests awaiting a response. */
  get requests(): number {
    return this.count
  }

  /** No request in flight and nothing held. */
  get idle(): boolean {
    return this.count === 0 && this.held === 0
  }

  /** Records inside a request right now. */
  get records(): number {
    let n = 0
    for (const b of this.batches) n += b.records.length
    return n
  }

  /** Requests in flight to `broker`. */
  to(broker: number): number {
    return this.perBroker.get(broker) ?? 0
  }

  started(broker: number, batches: readonly OutboundBatch[]): void {
    this.count++
    this.perBroker.set(broker, this.to(broker) + 1)
    for (const b of batches) this.batches.add(b)
  }

  ended(broker: number, batches: readonly OutboundBatch[]): void {
    this.count--
    this.perBroker.set(broker, Math.max(0, this.to(broker) - 1))
    for (const b of batches) this.batches.delete(b)
  }

  /** Counts work that is not a request (a sequence resolution, a reset) as one; returns its end. */
  hold(): () => void {
    this.held++
    return once(() => this.held--)
  }

  /** Resolves once nothing is in flight (now, or at a `notify()`). */
  whenIdle(): Promise<void> {
    if (this.idle) return Promise.resolve()
    return new Promise((resolve) => this.idleWaiters.push(resolve))
  }

  /** Wakes the idle waiters when nothing is in flight. */
  notify(): void {
    if (this.idle && this.idleWaiters.length > 0) for (const w of this.idleWaiters.splice(0)) w()
  }
}
