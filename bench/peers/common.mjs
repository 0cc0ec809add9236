/** Helpers shared by the peer benchmark's parent process and its contender processes. */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { parseProcStatCpu, parseVmHwmMb } from './parse.mjs'

export const PARTITIONS = 6
/** Records per `sendBatch` / `send` call of the chunked clients, and how many calls they keep in flight. */
export const CHUNK = 1000
export const IN_FLIGHT = 5
/** The `high-throughput` preset's producer knobs, given to every client that has the same knob. */
export const HT = { acks: 1, lingerMs: 20, batchSize: 131_072, bufferMemory: 67_108_864 }
/** The `high-throughput` preset's fetch knobs, given to every consumer that has the same knob. */
export const HT_FETCH = { minBytes: 65_536, maxWaitMs: 500, maxPartitionBytes: 1_048_576, maxPollRecords: 2000 }
/** The `low-latency` preset's fetch knobs, given to every latency contender's consumer. */
export const LL_FETCH = { minBytes: 1, maxWaitMs: 20 }

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

/** Random base64 text values of `bytes` bytes from a pool of `count` (lz4 finds no repeats across records). */
export function payloads(bytes, count = 16_384) {
  return Array.from({ length: count }, () => Buffer.from(randomBytes(bytes).toString('base64').slice(0, bytes)))
}

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  if (s.length === 0) return NaN
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]
}

export async function until(pred, timeoutMs, what = 'benchmark step') {
  const deadline = Date.now() + timeoutMs
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`${what} timed out after ${timeoutMs} ms`)
    await sleep(5)
  }
}

/** With BENCH_PROFILE_DIR: a V8 CPU profile of the timed window only (startup and warm-up left out). */
async function profiled(fn) {
  const dir = process.env.BENCH_PROFILE_DIR
  if (!dir) return await fn()
  const { Session } = await import('node:inspector')
  const { writeFileSync } = await import('node:fs')
  const session = new Session()
  session.connect()
  const post = (method, params) => new Promise((resolve, reject) => session.post(method, params, (err, res) => (err ? reject(err) : resolve(res))))
  await post('Profiler.enable')
  await post('Profiler.setSamplingInterval', { interval: 200 })
  await post('Profiler.start')
  try {
    return await fn()
  } finally {
    const { profile } = await post('Profiler.stop')
    writeFileSync(join(dir, `${process.env.BENCH_PROFILE_NAME ?? 'profile'}.cpuprofile`), JSON.stringify(profile))
    session.disconnect()
  }
}

/** Samples this process's peak RSS every 20 ms until the returned function is called. */
export function rssSampler() {
  let peak = process.memoryUsage.rss()
  // memoryUsage.rss(): memoryUsage() walks the heap spaces, which showed up in profiles.
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 20)
  return () => {
    clearInterval(timer)
    return Math.max(peak, process.memoryUsage.rss()) / 1048576
  }
}

/** Times `fn` (which sends `count` records and resolves when all are acknowledged): the window is first send to last ack. */
export async function timed(count, fn) {
  if (global.gc) global.gc()
  const stopRss = rssSampler()
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  await profiled(fn)
  const seconds = (performance.now() - t0) / 1000
  const cpu = process.cpuUsage(cpu0)
  return { records: count, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, peakRssMb: stopRss() }
}

/**
 * A consumer's timed window: `start()` when its group assignment arrives, `add(n)` per delivered batch,
 * `done` resolves at the last of `count` records with the same fields as `timed`.
 */
export function consumeWindow(count) {
  if (global.gc) global.gc()
  const stopRss = rssSampler()
  let t0 = performance.now()
  let cpu0 = process.cpuUsage()
  let seen = 0
  let finish
  const done = new Promise((r) => (finish = r))
  return {
    start() {
      t0 = performance.now()
      cpu0 = process.cpuUsage()
    },
    add(n) {
      seen += n
      if (seen >= count && finish !== undefined) {
        const seconds = (performance.now() - t0) / 1000
        const cpu = process.cpuUsage(cpu0)
        finish({ records: seen, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, peakRssMb: stopRss() })
        finish = undefined
      }
    },
    done,
  }
}

/** Latency summary (ms) of one contender's samples, the first 10% (warm-up) left out. */
export function latencySummary(samples) {
  const s = samples.slice(Math.floor(samples.length / 10)).sort((a, b) => a - b)
  return { records: samples.length, p50: percentile(s, 50), p99: percentile(s, 99), max: s.at(-1) }
}

/**
 * Runs `cmd args`, polling /proc for its CPU time (user + system, all threads) and peak RSS (VmHWM)
 * every 50 ms; the last sample before it exits stands for the whole process. Resolves with its stdout.
 */
export function runMeasured(cmd, args, { timeoutMs = 600_000, cwd } = {}) {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd })
    let out = ''
    let err = ''
    let cpuSeconds = 0
    let peakRssMb = 0
    const sample = () => {
      try {
        cpuSeconds = parseProcStatCpu(readFileSync(`/proc/${p.pid}/stat`, 'utf8'))
        const hwm = parseVmHwmMb(readFileSync(`/proc/${p.pid}/status`, 'utf8'))
        if (Number.isFinite(hwm)) peakRssMb = hwm
      } catch {
        // it exited between two samples
      }
    }
    const timer = setInterval(sample, 50)
    const killer = setTimeout(() => p.kill('SIGKILL'), timeoutMs)
    const t0 = performance.now()
    p.stdout.on('data', (c) => (out += c))
    p.stderr.on('data', (c) => (err = (err + c).slice(-4000)))
    p.on('error', reject)
    p.on('close', (code) => {
      clearInterval(timer)
      clearTimeout(killer)
      if (code !== 0) reject(new Error(`${cmd} exited ${code}: ${err}${out.slice(-2000)}`))
      else resolve({ stdout: out, stderr: err, cpuSeconds, peakRssMb, wallSeconds: (performance.now() - t0) / 1000 })
    })
  })
}
