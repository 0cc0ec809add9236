/**
 * The abort signal of one fetched batch's handler calls, made only when a handler reads it. The batch loop
 * runs once per fetched partition batch (each record, at low rates), and a new AbortController cost about
 * 20 µs there (0.4% of the client's CPU in the low-latency profile); most handlers never look at the signal.
 */
export class LazyAbort {
  #controller: AbortController | null = null
  #aborted = false
  #reason: unknown = undefined

  /** The signal; already aborted (with the first reason) when `abort()` came before the first read. */
  get signal(): AbortSignal {
    if (this.#controller === null) {
      this.#controller = new AbortController()
      if (this.#aborted) this.#controller.abort(this.#reason)
    }
    return this.#controller.signal
  }

  /** As `AbortController.abort`: the first reason stays. */
  abort(reason: unknown): void {
    if (this.#aborted) return
    this.#aborted = true
    this.#reason = reason
    this.#controller?.abort(reason)
  }
}
