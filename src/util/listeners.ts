/** Typed event listeners whose `on()` returns an unsubscribe function; a throwing listener is logged, never rethrown. */
export class Listeners<Events extends object> {
  readonly #sets = new Map<keyof Events, Set<(payload: never) => void>>()

  constructor(private readonly onThrow: (err: unknown, event: keyof Events) => void) {}

  on<E extends keyof Events>(event: E, listener: (payload: Events[E]) => void): () => void {
    let set = this.#sets.get(event)
    if (set === undefined) this.#sets.set(event, (set = new Set()))
    const l = listener as (payload: never) => void
    set.add(l)
    return () => {
      set.delete(l)
    }
  }

  emit<E extends keyof Events>(event: E, payload: Events[E]): void {
    const set = this.#sets.get(event)
    if (set === undefined) return
    for (const fn of set) {
      try {
        ;(fn as (p: Events[E]) => void)(payload)
      } catch (err) {
        this.onThrow(err, event)
      }
    }
  }

  count(event: keyof Events): number {
    return this.#sets.get(event)?.size ?? 0
  }
}
