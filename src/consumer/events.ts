/** The consumer's event emitter: every event under its short name and as `consumer.<name>` (see `ConsumerEvents`). */
import { EventEmitter } from 'node:events'
import type { ConsumerEventMap, ConsumerEvents } from './types.js'

export class ConsumerEmitter {
  readonly #emitter = new EventEmitter()

  emit<E extends keyof ConsumerEventMap>(event: E, payload: Parameters<ConsumerEventMap[E]>[0]): void {
    this.#emitter.emit(`consumer.${event}`, payload)
    // An EventEmitter throws on an unheard 'error'; the consumer decides what an unheard error does (fail()).
    if (this.#emitter.listenerCount(event) > 0) this.#emitter.emit(event, payload)
  }

  /** Someone listens for the consumer's `error` (under either name). */
  hearsErrors(): boolean {
    return this.#emitter.listenerCount('error') + this.#emitter.listenerCount('consumer.error') > 0
  }

  on<E extends keyof ConsumerEvents>(event: E, listener: ConsumerEvents[E]): () => void {
    const fn = listener as (...args: unknown[]) => void
    this.#emitter.on(event, fn)
    return () => {
      this.#emitter.off(event, fn)
    }
  }
}
