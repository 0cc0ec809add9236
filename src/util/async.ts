/** Small promise helpers shared by the runtimes. */

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** Resolves true when `p` settled within `ms`, false when the time ran out first (the timer never outlives it). */
export async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let t: NodeJS.Timeout | undefined
  const done = await Promise.race([p.then(() => true, () => true), new Promise<boolean>((resolve) => (t = setTimeout(() => resolve(false), Math.max(0, ms))))])
  clearTimeout(t)
  return done
}

/** A promise with its resolve and reject; an unobserved rejection is not reported as unhandled. */
export function deferred(): { promise: Promise<void>; resolve: () => void; reject: (e: unknown) => void } {
  let resolve!: () => void
  let reject!: (e: unknown) => void
  const promise = new Promise<void>((res, rej) => {
    resolve = res
    reject = rej
  })
  promise.catch(() => {})
  return { promise, resolve, reject }
}
