/**
 * Resolves on the first SIGINT or SIGTERM (Ctrl-C) and calls `onSignal` once; a second signal
 * while stopping exits at once with the conventional 128+n code.
 */
export function untilSignal(onSignal?: (signal: NodeJS.Signals) => void): { done: Promise<NodeJS.Signals>; dispose(): void } {
  let resolve!: (s: NodeJS.Signals) => void
  const done = new Promise<NodeJS.Signals>((r) => {
    resolve = r
  })
  // Signal listeners do not keep Node alive, and a foreground broker's JVMs are not Node handles.
  const keepAlive = setInterval(() => undefined, 1 << 30)
  let seen = false
  const handler = (signal: NodeJS.Signals) => {
    if (seen) {
      process.exit(signal === 'SIGINT' ? 130 : 143)
    }
    seen = true
    onSignal?.(signal)
    clearInterval(keepAlive)
    resolve(signal)
  }
  process.on('SIGINT', handler)
  process.on('SIGTERM', handler)
  return {
    done,
    dispose: () => {
      clearInterval(keepAlive)
      process.removeListener('SIGINT', handler)
      process.removeListener('SIGTERM', handler)
    },
  }
}
