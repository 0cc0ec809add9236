import { Command, Option } from 'commander'
import { presets } from '../index.js'
import type { BuiltinPresetName } from '../index.js'
import { runBench } from './bench-run.js'
import type { PresetResult } from './bench-run.js'
import { connectionFrom, nonNegativeInt, positiveInt, probeCluster, withConnectionFlags } from './connection.js'
import type { ConnectionFlags } from './connection.js'
import { EXIT, UsageError } from './exit.js'
import { createOutput, renderTable } from './output.js'
import type { Output } from './output.js'
import { untilSignal } from './signals.js'

type Goal = 'throughput' | 'latency' | 'durability'

interface BenchFlags extends ConnectionFlags {
  size: number
  seconds: number
  partitions: number
  rate: number
  warmup: number
  commitInterval: number
  goal: Goal
  preset: string[]
  json?: boolean
}

/** The preset to pick for a goal, and why, from the measured numbers. */
export function recommend(results: readonly PresetResult[], goal: Goal): { preset: BuiltinPresetName; reason: string } | null {
  if (results.length === 0) return null
  if (goal === 'durability') {
    const eo = results.find((r) => r.preset === 'exactly-once')
    const fastest = [...results].sort((a, b) => b.throughput.producerPerSec - a.throughput.producerPerSec)[0]!
    if (eo !== undefined) {
      const share = fastest.throughput.producerPerSec > 0 ? Math.round((eo.throughput.producerPerSec / fastest.throughput.producerPerSec) * 100) : 0
      return {
        preset: 'exactly-once',
        reason: `the only preset with acks=all, idempotence and transactions (no lost or duplicated records, read_committed consumers); here it ran at ${share}% of ${fastest.preset}'s burst rate with p99 ${eo.latency.p99Ms} ms at ${eo.latency.offeredPerSec} records/s`,
      }
    }
    return { preset: results[0]!.preset, reason: 'exactly-once was not measured; the measured presets use acks=1 and may lose acknowledged records on a leader failure' }
  }
  if (goal === 'throughput') {
    const sorted = [...results].sort((a, b) => b.throughput.producerMBps - a.throughput.producerMBps)
    const [best, next] = [sorted[0]!, sorted[1]]
    return {
      preset: best.preset,
      reason: `highest burst rate: ${best.throughput.producerPerSec.toLocaleString('en-US')} records/s (${best.throughput.producerMBps} MB/s) produced${next ? `, ${(best.throughput.producerMBps / Math.max(0.01, next.throughput.producerMBps)).toFixed(1)}x ${next.preset}` : ''}; its consumer drained ${best.throughput.consumerPerSec.toLocaleString('en-US')} records/s`,
    }
  }
  const sorted = [...results].sort((a, b) => a.latency.p99Ms - b.latency.p99Ms || a.latency.p50Ms - b.latency.p50Ms)
  const [best, next] = [sorted[0]!, sorted[1]]
  return {
    preset: best.preset,
    reason: `lowest end-to-end delay at ${best.latency.offeredPerSec} records/s: p50 ${best.latency.p50Ms} ms, p99 ${best.latency.p99Ms} ms${next ? ` (${next.preset}: p99 ${next.latency.p99Ms} ms)` : ''}`,
  }
}

function printHuman(out: Output, flags: BenchFlags, results: readonly PresetResult[], rec: ReturnType<typeof recommend>): void {
  out.line(out.paint('bold', `Latency at a fixed offered rate (${flags.rate} records/s, ${flags.size} B values, ${flags.seconds / 2} s per preset in 0.5 s turns): send() to consumer handler`))
  out.line(
    renderTable(
      ['preset', 'records', 'p50 ms', 'p99 ms', 'max ms', 'client CPU'],
      results.map((r) => [r.preset, String(r.latency.records), String(r.latency.p50Ms), String(r.latency.p99Ms), String(r.latency.maxMs), `${r.latency.cpuPct}%`]),
      out,
    ),
  )
  out.line()
  out.line(out.paint('bold', `Throughput from a burst (produced as fast as the producer accepts, then drained by a new consumer group; ${flags.partitions} partitions)`))
  out.line(
    renderTable(
      ['preset', 'records', 'produced rec/s', 'MB/s', 'producer CPU', 'consumed rec/s', 'MB/s', 'consumer CPU'],
      results.map((r) => [
        r.preset,
        String(r.throughput.records),
        r.throughput.producerPerSec.toLocaleString('en-US'),
        String(r.throughput.producerMBps),
        `${r.throughput.producerCpuPct}%`,
        r.throughput.consumerPerSec.toLocaleString('en-US'),
        String(r.throughput.consumerMBps),
        `${r.throughput.consumerCpuPct}%`,
      ]),
      out,
    ),
  )
  const txns = results.find((r) => r.throughput.transactions !== undefined)
  if (txns !== undefined) out.line(out.paint('dim', `${txns.preset}: one transaction every ${flags.commitInterval} ms of the burst (${txns.throughput.transactions} committed)`))
  out.line(out.paint('dim', 'CPU: this process as a share of one core (the latency phase runs producer and consumer together)'))
  if (rec === null) return
  out.line()
  out.line(`${out.paint('bold', `For ${flags.goal}:`)} ${out.paint('green', rec.preset)}: ${rec.reason}`)
  // The other goals too: together they read as what each preset is for.
  for (const goal of GOALS.filter((g) => g !== flags.goal)) {
    const other = recommend(results, goal)
    if (other !== null) out.line(out.paint('dim', `For ${goal}: ${other.preset}: ${other.reason}`))
  }
}

const GOALS: readonly Goal[] = ['throughput', 'latency', 'durability']

/** `kafkatune bench`: each preset's producer and consumer on a scratch topic. */
export function benchCommand(): Command {
  return withConnectionFlags(
    new Command('bench')
      .description('measure each preset on a scratch topic (deleted afterwards, also on Ctrl-C): latency at a fixed offered rate, throughput from a burst, client CPU; then recommend a preset for a goal')
      .option('--size <bytes>', 'value size in bytes', (v) => positiveInt('--size', v), 100)
      .option('--seconds <n>', 'seconds per preset, half for latency and half for throughput', (v) => positiveInt('--seconds', v), 20)
      .option('--partitions <n>', 'partitions of the scratch topic', (v) => positiveInt('--partitions', v), 6)
      .option('--rate <records/s>', 'offered rate of the latency phase', (v) => positiveInt('--rate', v), 1000)
      .option('--warmup <seconds>', 'untimed traffic before the first preset (0: none)', (v) => nonNegativeInt('--warmup', v), 3)
      .option('--commit-interval <ms>', "exactly-once's burst commits a transaction every this many ms (Kafka Streams' commit.interval.ms with exactly_once_v2)", (v) => positiveInt('--commit-interval', v), 100)
      .addOption(new Option('--goal <goal>', 'what the recommendation optimises').choices(['throughput', 'latency', 'durability']).default('throughput'))
      .option('-p, --preset <name>', 'measure only this preset (repeatable; default: all)', (v: string, acc: string[]) => [...acc, v], [] as string[])
      .option('--json', 'print one JSON document'),
  )
    .addHelpText('after', '\nExit codes: 0 measured, 1 Kafka unreachable or a send failed, 2 usage error. Ctrl-C stops, deletes the scratch topics and exits 130.')
    .action(async (flags: BenchFlags) => {
      const out = createOutput({ json: flags.json === true })
      for (const p of flags.preset) if (!Object.hasOwn(presets, p)) throw new UsageError(`unknown preset '${p}': use one of ${Object.keys(presets).join(', ')}`)
      const chosen = (flags.preset.length > 0 ? flags.preset : Object.keys(presets)) as BuiltinPresetName[]
      const connection = connectionFrom(flags)
      await probeCluster(connection, flags.timeout)
      const abort = new AbortController()
      const signal = untilSignal(() => {
        out.endProgress()
        out.note('kafkatune: stopping, deleting the scratch topics...')
        abort.abort()
      })
      let results: PresetResult[]
      try {
        results = await runBench({
          connection,
          size: flags.size,
          seconds: flags.seconds,
          partitions: flags.partitions,
          rate: flags.rate,
          warmupSeconds: flags.warmup,
          commitIntervalMs: flags.commitInterval,
          presets: chosen,
          topicPrefix: 'kafkatune-bench',
          signal: abort.signal,
          warn: (message) => out.note(`kafkatune: ${message}`),
          progress: (preset, phase, fraction) => {
            if (preset === 'warm-up') return out.progress('warming up the broker and clients...')
            const i = chosen.indexOf(preset as BuiltinPresetName)
            // The presets share the latency phase (taking turns), then each runs its burst.
            const total = phase === 'throughput' ? 0.5 + (i + Math.min(1, fraction)) / (2 * chosen.length) : phase === 'latency' ? Math.min(1, fraction) / 2 : 0
            const bar = '#'.repeat(Math.round(total * 30)).padEnd(30, '.')
            out.progress(`[${bar}] ${preset} ${phase}`)
          },
        })
      } finally {
        out.endProgress()
        signal.dispose()
      }
      if (abort.signal.aborted) {
        process.exitCode = 130
        return
      }
      const rec = recommend(results, flags.goal)
      if (out.json) {
        out.emit({
          settings: { size: flags.size, seconds: flags.seconds, partitions: flags.partitions, rate: flags.rate, warmupSeconds: flags.warmup, commitIntervalMs: flags.commitInterval },
          method: {
            latency: 'records offered at a fixed rate, the presets taking turns in 0.5 s slices after a warm-up; delay from send() to the consumer handler',
            throughput: 'a burst as fast as the producer accepts (produced = acked records / time to the last ack; a transactional preset commits a transaction every commitIntervalMs), then drained by a new consumer group (consumed = records / time from the first to the last record)',
            cpu: 'this process as a share of one core; the latency phase runs producer and consumer together',
          },
          results,
          recommendation: rec === null ? null : { goal: flags.goal, ...rec },
          recommendations: Object.fromEntries(GOALS.map((g) => [g, recommend(results, g)])),
        })
      } else printHuman(out, flags, results, rec)
      process.exitCode = EXIT.OK
    })
}
