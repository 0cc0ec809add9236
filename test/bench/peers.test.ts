import { readFileSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

// bench/ is plain JavaScript outside the compiled sources: loaded by URL, typed here by what the tests use.
type Row = { client: string; ratio: number; paired: number[]; cpu: number; cpuNet: number; rate: number }
type Run = { label: string; client: string; round: number; records: number; seconds: number; cpuSeconds: number; peakRssMb: number }
const bench = (path: string): string => pathToFileURL(fileURLToPath(new URL(`../../bench/${path}`, import.meta.url))).href
const parse = (await import(bench('peers/parse.mjs'))) as {
  parseProducerPerformance(s: string): { records: number; recordsPerSec: number; seconds: number }
  parseConsumerPerformance(s: string): { records: number; seconds: number; rebalanceMs: number }
  parseEndToEndLatency(s: string): { p50: number; p99: number; p999: number; avg: number }
  parseProcStatCpu(s: string, ticks?: number): number
  parseVmHwmMb(s: string): number
}
const peers = (await import(bench('peers.mjs'))) as { throughputRows(results: Run[], label: string, names: string[], javaStartupCpu?: number): Row[] }
const chart = (await import(bench('chart.mjs'))) as { renderChart(out: unknown, source?: string): string }
const fixture = (name: string): string => readFileSync(new URL(`../fixtures/bench/${name}`, import.meta.url), 'utf8')

describe('bench/peers: the Java tools output, as Apache Kafka 4.1.2 prints it', () => {
  it('ProducerPerformance: the last summary line, not the 5 s progress lines', () => {
    const r = parse.parseProducerPerformance(fixture('producer-performance.txt'))
    expect(r.records).toBe(300000)
    expect(r.recordsPerSec).toBeGreaterThan(0)
    expect(r.seconds).toBeCloseTo(r.records / r.recordsPerSec, 6)
  })

  it('ConsumerPerformance: the fetch window, the group join apart', () => {
    const r = parse.parseConsumerPerformance(fixture('consumer-performance.txt'))
    expect(r.records).toBe(300000)
    expect(r.seconds).toBeGreaterThan(0)
    expect(r.rebalanceMs).toBeGreaterThanOrEqual(0)
  })

  it('EndToEndLatency: percentiles in order', () => {
    const r = parse.parseEndToEndLatency(fixture('end-to-end-latency.txt'))
    expect(r.p50).toBeLessThanOrEqual(r.p99)
    expect(r.p99).toBeLessThanOrEqual(r.p999)
    expect(Number.isFinite(r.avg)).toBe(true)
  })

  it('a tool that printed no summary is an error, not a zero', () => {
    expect(() => parse.parseProducerPerformance('Exception in thread "main"')).toThrow(/no summary/)
    expect(() => parse.parseConsumerPerformance('WARN something\n')).toThrow(/no summary/)
    expect(() => parse.parseEndToEndLatency('')).toThrow(/no percentiles/)
  })
})

describe('bench/peers: /proc readings of a child process', () => {
  it('CPU from /proc/self/stat agrees with process.cpuUsage()', () => {
    const until = Date.now() + 150
    let x = 0
    while (Date.now() < until) x += Math.sqrt(x + 1)
    const fromProc = parse.parseProcStatCpu(readFileSync('/proc/self/stat', 'utf8'))
    const u = process.cpuUsage()
    // Clock ticks are 10 ms and the two reads are not at the same instant.
    expect(Math.abs(fromProc - (u.user + u.system) / 1e6)).toBeLessThan(0.1)
    expect(x).toBeGreaterThan(0)
  })

  it('a command name with spaces and parentheses does not shift the fields', () => {
    const fields = Array.from({ length: 50 }, (_, i) => String(i + 3))
    fields[11] = '250'
    fields[12] = '50'
    expect(parse.parseProcStatCpu(`1234 (java (x) y) ${fields.join(' ')}`)).toBe(3)
    expect(() => parse.parseProcStatCpu('garbage')).toThrow(/not a/)
  })

  it('peak RSS from /proc/self/status is at least the current RSS', () => {
    const hwm = parse.parseVmHwmMb(readFileSync('/proc/self/status', 'utf8'))
    expect(hwm).toBeGreaterThanOrEqual(process.memoryUsage.rss() / 1048576 - 1)
    expect(parse.parseVmHwmMb('Name: x\n')).toBeNaN()
  })
})

describe('bench/peers: ratios pair kafkatune with each client in the same round', () => {
  it('each per-round ratio is kafkatune records/s over the client records/s of that round', () => {
    const rate = fc.double({ min: 1, max: 1e6, noNaN: true })
    fc.assert(
      fc.property(fc.array(fc.tuple(rate, rate), { minLength: 1, maxLength: 5 }), (rounds) => {
        const runs: Run[] = rounds.flatMap(([tune], round) => [
          { label: 'L', client: 'kafkatune', round, records: 1000, seconds: 1000 / tune, cpuSeconds: 1, peakRssMb: 1 },
          // Listed in another order than kafkatune's: pairing goes by round, not by position.
          { label: 'L', client: 'peer', round: rounds.length - 1 - round, records: 1000, seconds: 1000 / rounds[rounds.length - 1 - round]![1], cpuSeconds: 2, peakRssMb: 1 },
        ])
        const [t, p] = peers.throughputRows(runs, 'L', ['kafkatune', 'peer'])
        expect(t!.client).toBe('kafkatune')
        const byRound = new Map(runs.filter((r) => r.client === 'peer').map((r, i) => [r.round, p!.paired[i]!]))
        rounds.forEach(([tune, other], round) => expect(byRound.get(round)).toBeCloseTo(tune / other, 6))
        expect(p!.cpu).toBeCloseTo(2000, 6)
      }),
    )
  })

  it('Java CPU net of JVM start-up subtracts the start-up once per run', () => {
    const runs: Run[] = [
      { label: 'L', client: 'kafkatune', round: 0, records: 1e6, seconds: 10, cpuSeconds: 4, peakRssMb: 1 },
      { label: 'L', client: 'java', round: 0, records: 1e6, seconds: 10, cpuSeconds: 8, peakRssMb: 1 },
    ]
    const rows = peers.throughputRows(runs, 'L', ['kafkatune', 'java'], 2)
    expect(rows[1]!.cpu).toBeCloseTo(8, 6)
    expect(rows[1]!.cpuNet).toBeCloseTo(6, 6)
    expect(rows[0]!.cpuNet).toBeNaN()
  })
})

describe('bench/chart.mjs', () => {
  it('draws one ratio bar per peer and workload, labelled with the ratio, and the 1.0x line', () => {
    const run = (client: string, round: number, seconds: number): Run => ({ label: '100 B lz4', client, round, records: 1000, seconds, cpuSeconds: 0.004, peakRssMb: 100 })
    const out = {
      started: '2026-12-01T00:00:00.000Z',
      rounds: 1,
      names: ['kafkatune', 'rdkafka', 'java'],
      producer: [run('kafkatune', 0, 1), run('rdkafka', 0, 2), run('java', 0, 0.5)],
      consumer: [],
      latency: [],
      javaStartup: { cpuSeconds: 0.001 },
    }
    const svg = chart.renderChart(out)
    expect(svg.startsWith('<svg')).toBe(true)
    expect(svg).toContain('>2.00x<')
    expect(svg).toContain('>0.50x<')
    expect(svg).toContain('1.0x (right of it: kafkatune faster)')
    expect(svg.match(/<rect /g)?.length).toBe(1 + 2 + 3) // background, two ratio bars, three CPU bars
  })
})
