/** `fn` made callable once: later calls do nothing (a release function handed to a caller). */
export function once(fn: () => void): () => void {
  let done = false
  return () => {
    if (done) return
    done = true
    fn()
  }
}
