/**
 * Runs the BUILT command (`node dist/cli.js ...`) as a user would, in a child process.
 * `npm test` builds first; run `npm run build` before `npx vitest run test/cli`.
 */
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url))

export interface CliResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  ms: number
}

/** A running command whose output is collected as it comes. */
export interface CliChild {
  child: ChildProcess
  stdout(): string
  stderr(): string
  done: Promise<CliResult>
}

const running = new Set<ChildProcess>()

/** SIGKILLs every command a failed test left running (use in afterEach). */
export function killLeftovers(): void {
  for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  running.clear()
}

function assertBuilt(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first`)
}

/** Starts `kafkatune ...args`; stdout is not a TTY, so no colour and no progress. */
export function startCli(args: readonly string[], env: Record<string, string | undefined> = {}): CliChild {
  assertBuilt()
  const started = Date.now()
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, NO_COLOR: '1', KAFKA_BROKERS: undefined, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  running.add(child)
  child.on('exit', () => running.delete(child))
  let out = ''
  let err = ''
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d))
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d))
  const done = new Promise<CliResult>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout: out, stderr: err, ms: Date.now() - started }))
  })
  return { child, stdout: () => out, stderr: () => err, done }
}

/** Runs `kafkatune ...args` to completion (SIGKILL after `timeoutMs`). */
export async function runCli(args: readonly string[], opts: { env?: Record<string, string | undefined>; timeoutMs?: number } = {}): Promise<CliResult> {
  const c = startCli(args, opts.env)
  const timer = setTimeout(() => c.child.kill('SIGKILL'), opts.timeoutMs ?? 60_000)
  try {
    return await c.done
  } finally {
    clearTimeout(timer)
  }
}

/** Polls until `predicate` holds (every 50 ms), failing after `timeoutMs`. */
export async function eventually(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}
