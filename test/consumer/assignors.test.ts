import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  assignRange,
  assignRoundRobin,
  assignSticky,
  decodeStickyUserData,
  encodeStickyUserData,
} from '../../src/consumer/assignors/index.js'
import type { AssignFn, AssignorMember, TopicPartitions } from '../../src/consumer/assignors/index.js'

const arbGroup = fc
  .record({
    members: fc.uniqueArray(fc.stringMatching(/^m-[a-z0-9]{1,6}$/), { minLength: 1, maxLength: 8 }),
    topics: fc.uniqueArray(fc.stringMatching(/^t-[a-z]{1,4}$/), { minLength: 1, maxLength: 3 }),
    counts: fc.array(fc.integer({ min: 1, max: 24 }), { minLength: 3, maxLength: 3 }),
  })
  .map(({ members, topics, counts }) => ({
    members: members.map((memberId) => ({ memberId, topics })) as AssignorMember[],
    partitions: new Map(topics.map((t, i) => [t, Array.from({ length: counts[i]! }, (_, p) => p)])),
  }))

function flatten(result: Map<string, TopicPartitions>): string[] {
  return [...result.values()].flatMap((a) => Object.entries(a).flatMap(([t, ps]) => ps.map((p) => `${t}/${p}`)))
}
function total(a: TopicPartitions | undefined): number {
  return Object.values(a ?? {}).reduce((n, ps) => n + ps.length, 0)
}

const assignors: [string, AssignFn][] = [
  ['range', assignRange],
  ['round-robin', assignRoundRobin],
  ['sticky', assignSticky],
]

describe.each(assignors)('%s assignor', (_name, assign) => {
  it('assigns every partition exactly once and names every member', () => {
    fc.assert(
      fc.property(arbGroup, ({ members, partitions }) => {
        const result = assign(members, partitions)
        const got = flatten(result).sort()
        const want = [...partitions].flatMap(([t, ps]) => ps.map((p) => `${t}/${p}`)).sort()
        expect(got).toEqual(want)
        expect([...result.keys()].sort()).toEqual(members.map((m) => m.memberId).sort())
      }),
    )
  })

  it('only gives a member partitions of topics it subscribed to', () => {
    const members: AssignorMember[] = [
      { memberId: 'a', topics: ['x'] },
      { memberId: 'b', topics: ['x', 'y'] },
    ]
    const result = assign(members, new Map([['x', [0, 1]], ['y', [0, 1, 2]]]))
    expect(result.get('a')!.y).toBeUndefined()
    expect(result.get('b')!.y).toEqual([0, 1, 2])
  })
})

describe('balance', () => {
  it('round-robin and sticky keep member totals within one', () => {
    fc.assert(
      fc.property(arbGroup, ({ members, partitions }) => {
        for (const assign of [assignRoundRobin, assignSticky]) {
          const sizes = members.map((m) => total(assign(members, partitions).get(m.memberId)))
          expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1)
        }
      }),
    )
  })

  it('range keeps each topic within one across members (as Java)', () => {
    fc.assert(
      fc.property(arbGroup, ({ members, partitions }) => {
        const result = assignRange(members, partitions)
        for (const topic of partitions.keys()) {
          const sizes = members.map((m) => result.get(m.memberId)![topic]?.length ?? 0)
          expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1)
        }
      }),
    )
  })

  it('range hands out contiguous ranges in member order', () => {
    const members = ['c', 'a', 'b'].map((memberId) => ({ memberId, topics: ['t'] }))
    const result = assignRange(members, new Map([['t', [0, 1, 2, 3, 4, 5, 6]]]))
    expect(result.get('a')!.t).toEqual([0, 1, 2])
    expect(result.get('b')!.t).toEqual([3, 4])
    expect(result.get('c')!.t).toEqual([5, 6])
  })
})

describe('sticky', () => {
  const withMemory = (members: AssignorMember[], previous: Map<string, TopicPartitions>, generation = 1): AssignorMember[] =>
    members.map((m) => {
      const assignment = previous.get(m.memberId)
      return { ...m, userData: assignment === undefined ? undefined : encodeStickyUserData({ generation, assignment }) }
    })

  it('round-trips its userData and ignores foreign bytes', () => {
    const memory = { generation: 7, assignment: { t: [1, 3] } }
    expect(decodeStickyUserData(encodeStickyUserData(memory))).toEqual(memory)
    expect(decodeStickyUserData(Buffer.from([0, 1, 2]))).toBeNull()
    expect(decodeStickyUserData(Buffer.alloc(0))).toBeNull()
  })

  /** Java's StickyAssignor userData, written field by field as its schema says (Struct: array, string, int32). */
  const javaUserData = (assignment: [string, number[]][], generation?: number): Buffer => {
    const parts: Buffer[] = [int32(assignment.length)]
    for (const [topic, ps] of assignment) {
      const name = Buffer.from(topic, 'utf8')
      const len = Buffer.alloc(2)
      len.writeInt16BE(name.length)
      parts.push(len, name, int32(ps.length), ...ps.map(int32))
    }
    if (generation !== undefined) parts.push(int32(generation))
    return Buffer.concat(parts)
  }
  const int32 = (n: number): Buffer => {
    const b = Buffer.alloc(4)
    b.writeInt32BE(n)
    return b
  }

  it('reads the Java client\'s userData (V1 with generation, V0 without) and writes V1', () => {
    expect(decodeStickyUserData(javaUserData([['orders', [0, 2]], ['pay', [1]]], 5))).toEqual({ generation: 5, assignment: { orders: [0, 2], pay: [1] } })
    expect(decodeStickyUserData(javaUserData([['orders', [3]]]))).toEqual({ generation: -1, assignment: { orders: [3] } })
    expect(encodeStickyUserData({ generation: 9, assignment: { orders: [0, 2], pay: [1] } })).toEqual(javaUserData([['orders', [0, 2]], ['pay', [1]]], 9))
  })

  it('treats null userData (a Java member\'s first join) and old kafkatune JSON as data, not a crash', () => {
    expect(decodeStickyUserData(null)).toBeNull()
    const legacy = Buffer.from(JSON.stringify({ v: 1, g: Date.now(), a: { t: [0, 1] } }))
    expect(decodeStickyUserData(legacy)).toEqual({ generation: -1, assignment: { t: [0, 1] } })
    const members: AssignorMember[] = [
      { memberId: 'java', topics: ['t'], userData: null },
      { memberId: 'node', topics: ['t'], userData: encodeStickyUserData({ generation: 3, assignment: { t: [0, 1, 2, 3] } }) },
    ]
    const result = assignSticky(members, new Map([['t', [0, 1, 2, 3]]]))
    expect(result.get('java')!.t).toHaveLength(2)
    expect(result.get('node')!.t).toHaveLength(2)
  })

  it('reads a topic named like an Object.prototype member as a topic', () => {
    const assignment = JSON.parse('{"__proto__":[1,2],"constructor":[0]}') as Record<string, number[]>
    expect(Object.keys(assignment)).toEqual(['__proto__', 'constructor'])
    const decoded = decodeStickyUserData(encodeStickyUserData({ generation: 4, assignment }))!
    expect(Object.keys(decoded.assignment)).toEqual(['__proto__', 'constructor'])
    expect(Object.getPrototypeOf(decoded.assignment)).toBe(Object.prototype)
  })

  it('round-trips any assignment and int32 generation; truncated bytes read as no memory', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ minLength: 1, maxLength: 20 }), fc.uniqueArray(fc.nat(10_000), { minLength: 1, maxLength: 20 })),
        fc.integer({ min: -1, max: 2 ** 31 - 1 }),
        (assignment, generation) => {
          const buf = encodeStickyUserData({ generation, assignment })
          expect(decodeStickyUserData(buf)).toEqual({ generation, assignment })
          if (buf.length > 4) expect(decodeStickyUserData(buf.subarray(0, buf.length - 3))).toBeNull()
        },
      ),
    )
  })

  it('keeps every previous partition when membership is unchanged', () => {
    fc.assert(
      fc.property(arbGroup, ({ members, partitions }) => {
        const first = assignSticky(members, partitions)
        const second = assignSticky(withMemory(members, first), partitions)
        expect(flatten(second).sort()).toEqual(flatten(first).sort())
        for (const m of members) expect(second.get(m.memberId)).toEqual(first.get(m.memberId))
      }),
    )
  })

  it('when a member joins, only partitions that go to the newcomer move', () => {
    fc.assert(
      fc.property(arbGroup, fc.stringMatching(/^n-[a-z]{1,4}$/), ({ members, partitions }, newcomer) => {
        const first = assignSticky(members, partitions)
        const joined = [...withMemory(members, first), { memberId: newcomer, topics: members[0]!.topics }]
        const second = assignSticky(joined, partitions)
        for (const m of members) {
          const before = new Set(flatten(new Map([[m.memberId, first.get(m.memberId)!]])))
          for (const tp of flatten(new Map([[m.memberId, second.get(m.memberId)!]]))) expect(before.has(tp)).toBe(true)
        }
      }),
    )
  })

  it('when a member leaves, the others keep what they had', () => {
    fc.assert(
      fc.property(arbGroup, ({ members, partitions }) => {
        fc.pre(members.length >= 2)
        const first = assignSticky(members, partitions)
        const remaining = withMemory(members.slice(1), first)
        const second = assignSticky(remaining, partitions)
        for (const m of remaining) {
          const after = new Set(flatten(new Map([[m.memberId, second.get(m.memberId)!]])))
          for (const tp of flatten(new Map([[m.memberId, first.get(m.memberId)!]]))) expect(after.has(tp)).toBe(true)
        }
      }),
    )
  })

  it('resolves two claims on one partition in favour of the newer generation', () => {
    const members: AssignorMember[] = [
      { memberId: 'a', topics: ['t'], userData: encodeStickyUserData({ generation: 1, assignment: { t: [0, 1] } }) },
      { memberId: 'b', topics: ['t'], userData: encodeStickyUserData({ generation: 2, assignment: { t: [1] } }) },
    ]
    const result = assignSticky(members, new Map([['t', [0, 1]]]))
    expect(result.get('a')!.t).toEqual([0])
    expect(result.get('b')!.t).toEqual([1])
  })
})
