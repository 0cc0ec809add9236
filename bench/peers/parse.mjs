/** Pure parsers of what the Java tools print and of /proc: kept apart so unit tests can feed them real output. */

/** ProducerPerformance's last summary line: records sent and records/s (its own clock, first send to last ack). */
export function parseProducerPerformance(stdout) {
  const lines = stdout.trim().split('\n').filter((l) => /records sent/.test(l))
  const m = /(\d+) records sent, ([\d.]+) records\/sec/.exec(lines.at(-1) ?? '')
  if (m === null) throw new Error(`ProducerPerformance printed no summary: ${stdout.slice(-1000)}`)
  const records = Number(m[1])
  return { records, recordsPerSec: Number(m[2]), seconds: records / Number(m[2]) }
}

/** ConsumerPerformance's CSV summary; the fetch.* columns leave the group join (rebalance.time.ms) out. */
export function parseConsumerPerformance(stdout) {
  const lines = stdout.trim().split('\n')
  const header = lines.findIndex((l) => l.startsWith('start.time'))
  if (header < 0 || lines[header + 1] === undefined) throw new Error(`ConsumerPerformance printed no summary: ${stdout.slice(-1000)}`)
  const names = lines[header].split(',').map((s) => s.trim())
  const values = lines[header + 1].split(',').map((s) => s.trim())
  const col = (n) => {
    const i = names.indexOf(n)
    if (i < 0) throw new Error(`ConsumerPerformance summary has no ${n} column: ${lines[header]}`)
    return Number(values[i])
  }
  return { records: col('data.consumed.in.nMsg'), seconds: col('fetch.time.ms') / 1000, rebalanceMs: col('rebalance.time.ms') }
}

/** EndToEndLatency's percentiles (whole milliseconds) and average. */
export function parseEndToEndLatency(stdout) {
  const p = /50th = ([\d.]+), 99th = ([\d.]+), 99\.9th = ([\d.]+)/.exec(stdout)
  if (p === null) throw new Error(`EndToEndLatency printed no percentiles: ${stdout.slice(-1000)}`)
  const avg = /Avg latency: ([\d.]+) ms/.exec(stdout)
  return { p50: Number(p[1]), p99: Number(p[2]), p999: Number(p[3]), avg: avg ? Number(avg[1]) : NaN }
}

/** CPU seconds (user + system, all threads) from /proc/<pid>/stat; `ticks` is sysconf(_SC_CLK_TCK), 100 on Linux. */
export function parseProcStatCpu(stat, ticks = 100) {
  // The command name (field 2) is in parentheses and may hold spaces; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const utime = Number(fields[11])
  const stime = Number(fields[12])
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`not a /proc/<pid>/stat line: ${stat.slice(0, 200)}`)
  return (utime + stime) / ticks
}

/** Peak resident set (MiB) from /proc/<pid>/status, or NaN when the line is missing. */
export function parseVmHwmMb(status) {
  const m = /VmHWM:\s+(\d+) kB/.exec(status)
  return m === null ? NaN : Number(m[1]) / 1024
}
