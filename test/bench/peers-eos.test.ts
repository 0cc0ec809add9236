import { readFileSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

// bench/ is plain JavaScript outside the compiled sources: loaded by URL, typed here by what the tests use.
type EosRun = { size: string; client: string; mode: 'high-throughput' | 'exactly-once'; round: number; records: number; seconds: number; cpuSeconds: number }
const url = (path: string): string => pathToFileURL(fileURLToPath(new URL(`../../bench/${path}`, import.meta.url))).href
const eos = (await import(url('peers/eos.mjs'))) as { eosReport(rows: EosRun[]): string | null; TXN_MS: number }

/** The ratio cell of `client` at `size`: "0.75x (0.75, 0.94, 0.63)" -> [median, ...per round]. */
function ratios(report: string, size: string, client: string): number[] {
  const line = report.split('\n').find((l) => l.startsWith(`| ${size} | ${client} |`))
  if (line === undefined) throw new Error(`no row for ${size} ${client}`)
  const cell = line.split('|')[5] ?? ''
  return [...cell.matchAll(/(\d+\.\d+)/g)].map((m) => Number(m[1]))
}

describe('bench/peers eos section', () => {
  it('reports each client exactly-once / high-throughput per round and the median, for the committed run', () => {
    const out = JSON.parse(readFileSync(new URL('../../bench/peers-eos-results.json', import.meta.url), 'utf8')) as { eos: EosRun[] }
    const report = eos.eosReport(out.eos)
    expect(report).not.toBeNull()
    expect(report).toContain(`committed every ${eos.TXN_MS} ms`)
    for (const size of ['100 B', '1 KiB']) {
      for (const client of ['kafkatune', 'java']) {
        const [median, ...perRound] = ratios(report as string, size, client)
        const rate = (r: EosRun): number => r.records / r.seconds
        const want = out.eos
          .filter((r) => r.size === size && r.client === client && r.mode === 'exactly-once')
          .map((e) => rate(e) / rate(out.eos.find((h) => h.size === size && h.client === client && h.mode === 'high-throughput' && h.round === e.round) as EosRun))
        expect(perRound).toEqual(want.map((x) => Number(x.toFixed(2))))
        expect(median).toBe(Number([...want].sort((a, b) => a - b)[1]?.toFixed(2)))
      }
    }
  })

  it('pairs each exactly-once run with the high-throughput run of its own round', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 1_000, max: 1_000_000 }), fc.integer({ min: 1_000, max: 1_000_000 })), { minLength: 1, maxLength: 5 }), (pairs) => {
        // High-throughput runs in reverse round order: pairing must go by round, not by position.
        const ht: EosRun[] = pairs.map(([records], round) => ({ size: '100 B', client: 'kafkatune', mode: 'high-throughput', round, records, seconds: 1, cpuSeconds: 1 }))
        const ex: EosRun[] = pairs.map(([, records], round) => ({ size: '100 B', client: 'kafkatune', mode: 'exactly-once', round, records, seconds: 1, cpuSeconds: 1 }))
        const [, ...perRound] = ratios(eos.eosReport([...ht.reverse(), ...ex]) as string, '100 B', 'kafkatune')
        expect(perRound).toEqual(pairs.map(([ht, ex]) => Number((ex / ht).toFixed(2))))
      }),
    )
  })

  it('has nothing to report without runs', () => {
    expect(eos.eosReport([])).toBeNull()
  })
})
