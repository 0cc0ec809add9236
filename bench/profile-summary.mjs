#!/usr/bin/env node
/** Summarises a V8 .cpuprofile (node --cpu-prof): self time per function and per area. Usage: node bench/profile-summary.mjs FILE [TOP] */
import { readFileSync } from 'node:fs'

const [file, topArg] = process.argv.slice(2)
const prof = JSON.parse(readFileSync(file, 'utf8'))
const byId = new Map(prof.nodes.map((n) => [n.id, n]))
const self = new Map()
const dt = prof.timeDeltas
for (let i = 0; i < prof.samples.length; i++) self.set(prof.samples[i], (self.get(prof.samples[i]) ?? 0) + (dt[i] ?? 0))
const total = [...self.values()].reduce((a, b) => a + b, 0)
const fns = new Map()
const areas = new Map()
const area = (url, name) => {
  if (name === '(garbage collector)') return 'GC'
  if (name === '(idle)' || name === '(program)') return name
  if (url.includes('/src/protocol/') || url.includes('protocol/')) return 'kafkatune protocol (encode, CRC)'
  if (url.includes('kafkajs')) return 'kafkajs (connection, framing)'
  if (url.includes('/dist/') || url.includes('/src/')) return 'kafkatune runtime'
  if (url === '' ) return 'native/builtins'
  if (url.startsWith('node:')) return 'node core'
  return 'other'
}
for (const [id, us] of self) {
  const n = byId.get(id)
  const { functionName, url, lineNumber } = n.callFrame
  const key = `${functionName || '(anonymous)'} ${url.split('/').slice(-2).join('/')}:${lineNumber + 1}`
  fns.set(key, (fns.get(key) ?? 0) + us)
  const a = area(url, functionName)
  areas.set(a, (areas.get(a) ?? 0) + us)
}
const pct = (us) => `${((us / total) * 100).toFixed(1)}%`
console.log(`total ${(total / 1e6).toFixed(2)} s sampled`)
for (const [a, us] of [...areas].sort((x, y) => y[1] - x[1])) console.log(`${pct(us).padStart(6)}  ${a}`)
console.log('')
for (const [k, us] of [...fns].sort((x, y) => y[1] - x[1]).slice(0, Number(topArg ?? 25))) console.log(`${pct(us).padStart(6)}  ${k}`)
