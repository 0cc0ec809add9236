import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { fetchKey, installFetchPrefetch, predictNextFetch, prefetchStats } from '../../src/kafkajs/fetch-prefetch.js'
import type { FetchArgs, FetchResult } from '../../src/kafkajs/fetch-prefetch.js'

const args = (offsets: Record<number, string>, extra: Partial<FetchArgs> = {}): FetchArgs => ({
  isolationLevel: 1,
  maxWaitTime: 500,
  minBytes: 1,
  maxBytes: 10_000,
  topics: [{ topic: 't', partitions: Object.entries(offsets).map(([p, fetchOffset]) => ({ partition: Number(p), fetchOffset, maxBytes: 1000 })) }],
  ...extra,
})

const part = (partition: number, offsets: number[], hw: number, errorCode = 0, lso = hw) => ({
  partition,
  errorCode,
  highWatermark: String(hw),
  lastStableOffset: String(lso),
  messages: offsets.map((o) => ({ offset: String(o) })),
})
const result = (...partitions: ReturnType<typeof part>[]): FetchResult => ({ responses: [{ topicName: 't', partitions }] })

describe('fetchKey', () => {
  it('ignores partition order and tells every option and offset apart', () => {
    const a = args({ 0: '5', 1: '7' })
    const reordered: FetchArgs = { ...a, topics: [{ topic: 't', partitions: [...a.topics[0]!.partitions].reverse() }] }
    expect(fetchKey(reordered)).toBe(fetchKey(a))
    expect(fetchKey(args({ 0: '5', 1: '8' }))).not.toBe(fetchKey(a))
    expect(fetchKey(args({ 0: '5' }))).not.toBe(fetchKey(a))
    expect(fetchKey({ ...a, isolationLevel: 0 })).not.toBe(fetchKey(a))
    expect(fetchKey({ ...a, minBytes: 2 })).not.toBe(fetchKey(a))
    expect(fetchKey({ ...a, maxWaitTime: 20 })).not.toBe(fetchKey(a))
  })
})

describe('predictNextFetch', () => {
  it('asks each partition from past its last record, and keeps partitions that returned nothing where they were', () => {
    const next = predictNextFetch(args({ 0: '10', 1: '3', 2: '0' }), result(part(0, [10, 11, 12], 100), part(1, [3], 50)))
    expect(next?.topics[0]?.partitions.map((p) => [p.partition, p.fetchOffset])).toEqual([
      [0, '13'],
      [1, '4'],
      [2, '0'],
    ])
    expect(next?.maxWaitTime).toBe(500)
  })

  it('skips records before the fetch offset (the start of a compressed batch)', () => {
    const next = predictNextFetch(args({ 0: '12' }), result(part(0, [10, 11, 12, 13], 100)))
    expect(next?.topics[0]?.partitions[0]?.fetchOffset).toBe('14')
  })

  it('sends nothing ahead when less is left than the response carried, on any partition error, or when caught up', () => {
    expect(predictNextFetch(args({ 0: '0' }), result(part(0, [0, 1, 2, 3], 6)))).toBeNull() // 2 left, 4 carried
    expect(predictNextFetch(args({ 0: '0' }), result(part(0, [0, 1], 4)))).not.toBeNull() // 2 left, 2 carried
    expect(predictNextFetch(args({ 0: '0', 1: '0' }), result(part(0, [0], 100), part(1, [], 0, 6)))).toBeNull()
    expect(predictNextFetch(args({ 0: '0' }), result(part(0, [], 0)))).toBeNull()
  })

  it('counts what is left up to the last stable offset when reading committed', () => {
    expect(predictNextFetch(args({ 0: '0' }), result(part(0, [0, 1], 100, 0, 3)))).toBeNull()
    expect(predictNextFetch(args({ 0: '0' }, { isolationLevel: 0 }), result(part(0, [0, 1], 100, 0, 3)))).not.toBeNull()
  })

  it('never predicts a position behind the request or beyond the last record (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(1000), fc.array(fc.nat(50), { maxLength: 20 }), fc.nat(2000)), { minLength: 1, maxLength: 6 }), (parts) => {
        const req = args(Object.fromEntries(parts.map(([from], i) => [i, String(from)])))
        const res = result(...parts.map(([from, deltas, hw], i) => part(i, [...deltas].sort((a, b) => a - b).map((d) => from - 5 + d), hw)))
        const next = predictNextFetch(req, res)
        if (next === null) return
        for (const [i, [from, deltas]] of parts.entries()) {
          const at = Number(next.topics[0]!.partitions[i]!.fetchOffset)
          const within = deltas.map((d) => from - 5 + d).filter((o) => o >= from)
          expect(at).toBe(within.length > 0 ? Math.max(...within) + 1 : from)
        }
      }),
    )
  })
})

describe('installFetchPrefetch (request bookkeeping, no broker)', () => {
  it('hands out a prediction only for the same request, and sends the one asked for otherwise', async () => {
    const sent: string[] = []
    const answers = new Map<string, FetchResult>()
    const broker = {
      fetch: async (a: FetchArgs): Promise<FetchResult> => {
        const at = a.topics[0]!.partitions[0]!.fetchOffset
        sent.push(at)
        return answers.get(at) ?? result(part(0, [], 100))
      },
    }
    answers.set('0', result(part(0, [0, 1, 2], 100)))
    answers.set('3', result(part(0, [3, 4, 5], 100)))
    installFetchPrefetch(broker)
    installFetchPrefetch(broker) // once per broker
    const before = { ...prefetchStats }
    const first = await broker.fetch(args({ 0: '0' }))
    expect(first.responses[0]!.partitions[0]!.messages.map((m) => m.offset)).toEqual(['0', '1', '2'])
    expect(sent).toEqual(['0', '3']) // the next request is already out
    const second = await broker.fetch(args({ 0: '3' }))
    expect(second.responses[0]!.partitions[0]!.messages.map((m) => m.offset)).toEqual(['3', '4', '5'])
    expect(sent).toEqual(['0', '3', '6'])
    // A seek: the prediction (from 6) is dropped and the asked request goes out.
    const third = await broker.fetch(args({ 0: '1' }))
    expect(third.responses[0]!.partitions[0]!.messages).toEqual([])
    expect(sent).toEqual(['0', '3', '6', '1'])
    expect(prefetchStats.used - before.used).toBe(1)
    expect(prefetchStats.discarded - before.discarded).toBe(1)
  })

  it('a prediction that fails is not reported: the asked request goes out and reports its own answer', async () => {
    let calls = 0
    const broker = {
      fetch: async (a: FetchArgs): Promise<FetchResult> => {
        calls++
        if (calls === 2) throw new Error('connection closed')
        return result(part(0, a.topics[0]!.partitions[0]!.fetchOffset === '0' ? [0, 1] : [2], 100))
      },
    }
    installFetchPrefetch(broker)
    await broker.fetch(args({ 0: '0' }))
    const next = await broker.fetch(args({ 0: '2' }))
    expect(next.responses[0]!.partitions[0]!.messages.map((m) => m.offset)).toEqual(['2'])
    expect(calls).toBe(4) // first, failed prediction, the asked request, and its prediction
  })
})
