import { spawn } from 'node:child_process'
import type { ChildProcessByStdio, SpawnOptions } from 'node:child_process'
import { rmSync } from 'node:fs'
import type { Socket } from 'node:net'
import type { Readable } from 'node:stream'

/** A spawned child whose stdout and stderr are pipes. */
export type GuardedChild = ChildProcessByStdio<null, Readable, Readable>

// Every JVM this process started and every scratch folder it made, so nothing outlives it.
const livePids = new Set<number>()
const scratchDirs = new Set<string>()
let hooked = false

/*
 * The JVM runs as `sh -c '<watchdog> & exec java ...'`: `exec` keeps the shell's pid, so the pid we track
 * and signal IS the JVM, while a tiny background loop polls this Node process once a second and SIGKILLs
 * the JVM when Node is gone (even after a SIGKILL of Node, which no exit hook sees). The loop ends by itself
 * when the JVM ends. Its stdio goes to /dev/null so it never holds the JVM's pipes open.
 */
const WATCHDOG =
  'parent=$1; shift; jvm=$$; ' +
  '( while kill -0 "$parent" 2>/dev/null && kill -0 "$jvm" 2>/dev/null; do sleep 1; done; kill -9 "$jvm" 2>/dev/null ) </dev/null >/dev/null 2>&1 & ' +
  'exec "$@"'

/** Spawn `command args` so it dies with this Node process, even when Node is SIGKILLed. */
export function spawnGuarded(command: string, args: readonly string[], options: Omit<SpawnOptions, 'stdio' | 'detached'> = {}): GuardedChild {
  installHooks()
  const child = spawn('/bin/sh', ['-c', WATCHDOG, 'kafkatune-watchdog', String(process.pid), command, ...args], {
    ...options,
    // Own process group: a terminal Ctrl-C reaches Node, which stops the brokers in order.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const pid = child.pid
  if (pid !== undefined) {
    livePids.add(pid)
    child.once('exit', () => livePids.delete(pid))
  }
  return child
}

/** Stop `child` from keeping Node alive on its own (once it is up: a forgotten broker must not hang a script). */
export function unrefChild(child: GuardedChild): void {
  child.unref()
  ;(child.stdout as Socket).unref()
  ;(child.stderr as Socket).unref()
}

/** Remove `dir` (recursively) when this process exits, unless it was removed before. */
export function trackScratchDir(dir: string): void {
  installHooks()
  scratchDirs.add(dir)
}

/** Remove a scratch folder now and stop tracking it. */
export function removeScratchDir(dir: string): void {
  scratchDirs.delete(dir)
  rmSync(dir, { recursive: true, force: true })
}

/** Pids of every guarded child still running. */
export function guardedPids(): number[] {
  return [...livePids]
}

function killAllNow(): void {
  for (const pid of livePids) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // already gone
    }
  }
  livePids.clear()
  for (const dir of scratchDirs) {
    try {
      rmSync(dir, { recursive: true, force: true })
    } catch {
      // best effort on the way out
    }
  }
  scratchDirs.clear()
}

function onSignal(signal: NodeJS.Signals): void {
  // Someone else (e.g. `npm run kafka`) handles this signal and will stop the brokers itself; the exit hook
  // still catches whatever is left.
  if (process.listenerCount(signal) > 1) return
  killAllNow()
  process.removeListener(signal, onSignal)
  process.kill(process.pid, signal)
}

function installHooks(): void {
  if (hooked) return
  hooked = true
  process.on('exit', killAllNow)
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  process.on('SIGHUP', onSignal)
}
