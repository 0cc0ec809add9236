/**
 * kafkajs 2.2.4's request queue re-arms a timer after every response even when nothing waits in it, with a
 * delay of `throttledUntil - Date.now()`: about minus `Date.now()` when the broker never throttled. Node clamps
 * that to 1 ms (so each connection that ever got a response wakes the event loop every millisecond) and,
 * from Node 24, prints `TimeoutNegativeWarning` (kafkajs issue 1751, not fixed upstream). kafkatune patches the
 * one method, in kafkajs's own module instance, to arm the timer only when a request is waiting: the delay is
 * then positive (the throttle end) or kafkajs's 10 ms pending-check interval, and behaviour is otherwise the same.
 */
import { createRequire } from 'node:module'

interface RequestQueueLike {
  pending: unknown[]
  scheduleCheckPendingRequests(): void
}

const PATCHED = Symbol.for('kafkatune.requestQueueTimerPatch')
let applied = false

/** Applies the patch once per process (idempotent, also across copies of kafkatune sharing one kafkajs). */
export function patchRequestQueueTimer(): void {
  if (applied) return
  applied = true
  const requireFromHere = createRequire(import.meta.url)
  let RequestQueue: { prototype: RequestQueueLike } | undefined
  try {
    RequestQueue = requireFromHere('kafkajs/src/network/requestQueue/index.js') as { prototype: RequestQueueLike }
  } catch {
    // A kafkajs without this file (a different version): nothing to patch.
    return
  }
  const proto = RequestQueue.prototype as RequestQueueLike & { [PATCHED]?: true }
  if (proto[PATCHED] === true || typeof proto.scheduleCheckPendingRequests !== 'function') return
  const original = proto.scheduleCheckPendingRequests
  proto.scheduleCheckPendingRequests = function scheduleCheckPendingRequests(this: RequestQueueLike): void {
    // Requests enter `pending` only through push(), which schedules again; responses call checkPendingRequests().
    if (this.pending.length === 0) return
    original.call(this)
  }
  proto[PATCHED] = true
}
