/** KeyScheduler: per-key order, lanes drained in bursts, and the concurrency limit of the p-queue underneath, against a model. */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { BURST, KeyScheduler } from '../../../src/consumer/parallel/scheduler.js'

const tick = () => new Promise<void>((r) => setImmediate(r))

interface Task {
  key: number | null
  ticks: number
  i: number
}

async function runModel(tasks: [number | null, number][], concurrency: number, byKey: boolean) {
  const order = new Map<number, number[]>()
  let running = 0
  let peak = 0
  let done = 0
  let turns = 0
  const s: KeyScheduler<Task> = new KeyScheduler<Task>(concurrency, byKey, async () => {
    turns++
    const slot = { lane: null, budget: 0 }
    for (let t = s.next(slot); t !== undefined; t = s.next(slot)) {
      running++
      peak = Math.max(peak, running)
      // At least one tick: a runner that never awaits would drain everything inside add().
      for (let k = 0; k <= t.ticks; k++) await tick()
      if (t.key !== null) order.set(t.key, [...(order.get(t.key) ?? []), t.i])
      running--
      done++
    }
  })
  const group = s.group('t|0')
  tasks.forEach(([key, ticks], i) => s.add(group, key === null ? null : `k${key}`, { key, ticks, i }))
  const waitingAfterAdd = s.keysWaiting
  for (let guard = 0; done < tasks.length && guard < 100_000; guard++) await tick()
  return { order, peak, done, waitingAfterAdd, waitingAtEnd: s.keysWaiting, turns }
}

describe('KeyScheduler', () => {
  it("ordering 'key': each key in the order added, never more than concurrency at once, all run", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.option(fc.integer({ min: 0, max: 5 }), { freq: 5 }), fc.integer({ min: 0, max: 3 })), { minLength: 1, maxLength: 80 }),
        fc.integer({ min: 1, max: 6 }),
        async (tasks, concurrency) => {
          const r = await runModel(tasks, concurrency, true)
          expect(r.done).toBe(tasks.length)
          expect(r.peak).toBeLessThanOrEqual(concurrency)
          for (const [, idx] of r.order) expect(idx).toEqual([...idx].sort((a, b) => a - b))
          // A key with more than one record has at least one waiting right after they were added.
          const counts = new Map<number, number>()
          for (const [k] of tasks) if (k !== null) counts.set(k, (counts.get(k) ?? 0) + 1)
          expect(r.waitingAfterAdd).toBeGreaterThanOrEqual([...counts.values()].filter((c) => c > 1).length)
          expect(r.waitingAtEnd).toBe(0)
        },
      ),
      { numRuns: 100 },
    )
  })

  it("ordering 'unordered': one shared lane, up to concurrency runners", async () => {
    const tasks = Array.from({ length: 40 }, (): [number, number] => [0, 3])
    const r = await runModel(tasks, 5, false)
    expect(r.done).toBe(40)
    expect(r.peak).toBe(5)
  })

  it('p-queue tasks are runners, started per ready item up to concurrency, not per record', async () => {
    const tasks = Array.from({ length: BURST * 3 }, (_, i): [number, number] => [i % 50, 0])
    const r = await runModel(tasks, 4, true)
    expect(r.done).toBe(BURST * 3)
    expect(r.turns).toBeLessThanOrEqual(4)
  })

  it('a lane goes to the back of the queue after a burst, so one busy key does not hold a runner from the others', async () => {
    const order: string[] = []
    const s: KeyScheduler<{ k: string }> = new KeyScheduler<{ k: string }>(1, true, async () => {
      const slot = { lane: null, budget: 0 }
      for (let t = s.next(slot); t !== undefined; t = s.next(slot)) {
        order.push(t.k)
        await tick()
      }
    })
    const g = s.group('t|0')
    for (let i = 0; i < BURST + 5; i++) s.add(g, 'hot', { k: 'hot' })
    s.add(g, 'cold', { k: 'cold' })
    for (let i = 0; i < 1000 && order.length < BURST + 6; i++) await tick()
    expect(order.indexOf('cold')).toBe(BURST)
  })

  it('detach gives a lane up: its queued jobs come back and the key starts a new lane', async () => {
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    const ran: number[] = []
    const s: KeyScheduler<{ j: number }> = new KeyScheduler<{ j: number }>(2, true, async () => {
      const slot = { lane: null, budget: 0 }
      for (let t = s.next(slot); t !== undefined; t = s.next(slot)) {
        if (t.j === 0) await gate
        ran.push(t.j)
      }
    })
    const g = s.group('t|0')
    for (const j of [0, 1, 2]) s.add(g, 'a', { j })
    await tick()
    const lane = g.byKey.get('a')!
    expect(s.detach(lane).map((t) => t.j)).toEqual([1, 2])
    s.add(g, 'a', { j: 3 })
    await tick()
    expect(ran).toEqual([3])
    release()
    await tick()
    expect(ran).toEqual([3, 0])
    expect(s.runners).toBe(0)
  })
})
