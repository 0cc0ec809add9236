import { afterEach, describe, expect, it } from 'vitest'
import type { AssignorName } from '../../src/config/types.js'
import { createConsumer } from '../../src/consumer/index.js'
import type { Consumer, GroupJoinEvent } from '../../src/consumer/index.js'
import { brokers, createTopic, uniqueName, waitFor } from '../helpers/kafka.js'
import { quietLogger } from '../fixtures/consumer-helpers.js'

const open: Consumer<unknown, unknown>[] = []
afterEach(async () => {
  await Promise.allSettled(open.splice(0).map((c) => c.disconnect()))
})

type Member = { consumer: Consumer; joins: GroupJoinEvent[] }

async function member(groupId: string, topics: string[], assignor: AssignorName): Promise<Member> {
  const consumer = createConsumer({
    brokers: brokers(),
    groupId,
    topics,
    logger: quietLogger(),
    partitionAssignors: [assignor],
    sessionTimeoutMs: 6000,
    heartbeatIntervalMs: 300,
    maxPollIntervalMs: 10_000,
    fetchMaxWaitMs: 100,
  })
  open.push(consumer as Consumer<unknown, unknown>)
  const joins: GroupJoinEvent[] = []
  consumer.on('group-join', (e) => void joins.push(e))
  await consumer.connect()
  await consumer.run({ eachMessage: async () => {} })
  return { consumer, joins }
}

const owned = (m: Member): string[] =>
  Object.entries(m.joins.at(-1)?.assignment ?? {})
    .flatMap(([t, ps]) => ps.map((p) => `${t}/${p}`))
    .sort()

/** Waits until the members' latest assignments cover `total` partitions exactly once. */
async function settled(members: Member[], total: number): Promise<void> {
  await waitFor(() => {
    const all = members.flatMap(owned)
    return all.length === total && new Set(all).size === total
  }, 45_000)
}

describe('assignors with live group members', () => {
  it('range: per topic, contiguous ranges', async () => {
    const t = uniqueName('as-range')
    const groupId = uniqueName('g')
    await createTopic(t, 5)
    const a = await member(groupId, [t], 'range')
    const b = await member(groupId, [t], 'range')
    await settled([a, b], 5)
    const sizes = [owned(a).length, owned(b).length].sort()
    expect(sizes).toEqual([2, 3])
    for (const m of [a, b]) {
      const ps = owned(m).map((x) => Number(x.split('/').at(-1)))
      expect(Math.max(...ps) - Math.min(...ps)).toBe(ps.length - 1)
    }
  })

  it('round-robin: three members over two topics, balanced within one', async () => {
    const t1 = uniqueName('as-rr1')
    const t2 = uniqueName('as-rr2')
    const groupId = uniqueName('g')
    await createTopic(t1, 4)
    await createTopic(t2, 3)
    const ms = [await member(groupId, [t1, t2], 'round-robin'), await member(groupId, [t1, t2], 'round-robin'), await member(groupId, [t1, t2], 'round-robin')]
    await settled(ms, 7)
    const sizes = ms.map((m) => owned(m).length).sort()
    expect(sizes).toEqual([2, 2, 3])
  })

  it('sticky: a member joining or leaving moves only what it must', async () => {
    const t = uniqueName('as-sticky')
    const groupId = uniqueName('g')
    await createTopic(t, 6)
    const a = await member(groupId, [t], 'sticky')
    const b = await member(groupId, [t], 'sticky')
    await settled([a, b], 6)
    const before = { a: owned(a), b: owned(b) }
    expect(before.a.length).toBe(3)

    const c = await member(groupId, [t], 'sticky')
    await settled([a, b, c], 6)
    await waitFor(() => owned(c).length === 2, 30_000)
    // a and b each gave exactly one partition to c and kept the rest.
    for (const [m, prev] of [[a, before.a], [b, before.b]] as const) {
      expect(owned(m).length).toBe(2)
      for (const tp of owned(m)) expect(prev).toContain(tp)
    }
    const withC = { a: owned(a), c: owned(c) }

    // b leaves: its two partitions go to a and c, who keep what they had.
    const joinsA = a.joins.length
    await b.consumer.stop()
    await waitFor(() => a.joins.length > joinsA, 30_000)
    await settled([a, c], 6)
    expect(owned(a).length).toBe(3)
    expect(owned(c).length).toBe(3)
    for (const tp of withC.a) expect(owned(a)).toContain(tp)
    for (const tp of withC.c) expect(owned(c)).toContain(tp)
  })
})
