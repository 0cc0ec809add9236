import type { AssignFn, AssignorMember, TP } from './types.js'
import type { PartitionAssigner } from 'kafkajs'
import { toKafkajsAssigner } from '../../kafkajs/assignors.js'
import { addTo, allPartitions, emptyAssignment } from './types.js'
import { decodeStickyUserData, encodeStickyUserData } from './sticky-userdata.js'
import type { StickyMemory } from './sticky-userdata.js'

export { decodeStickyUserData, encodeStickyUserData, NO_GENERATION } from './sticky-userdata.js'
export type { StickyMemory } from './sticky-userdata.js'

/** Protocol name and userData format shared with the Java client's StickyAssignor. */
export const STICKY = 'sticky'

const byId = (a: AssignorMember, b: AssignorMember): number => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0)
const tpKey = (tp: TP): string => `${tp.topic}\u0000${tp.partition}`

/**
 * `sticky`: balanced (member counts differ by at most one when all members subscribe to the same topics)
 * while keeping as many partitions as possible where they were.
 */
export const assignSticky: AssignFn = (members, partitionsPerTopic) => {
  const result = emptyAssignment(members)
  if (members.length === 0) return result
  const known = new Set(partitionsPerTopic.keys())
  const subs = new Map(members.map((m) => [m.memberId, new Set(m.topics.filter((t) => known.has(t)))]))
  const all = allPartitions(
    members.flatMap((m) => [...(subs.get(m.memberId) ?? [])]),
    partitionsPerTopic,
  )
  const exists = new Set(all.map(tpKey))

  // Previous owner of each partition: the claim with the newest generation wins, ties by member id.
  const owner = new Map<string, { memberId: string; generation: number }>()
  for (const m of [...members].sort(byId)) {
    const memory = decodeStickyUserData(m.userData)
    if (memory === null) continue
    for (const [topic, parts] of Object.entries(memory.assignment)) {
      if (!(subs.get(m.memberId)?.has(topic) ?? false)) continue
      for (const partition of parts) {
        const key = tpKey({ topic, partition })
        if (!exists.has(key)) continue
        const prev = owner.get(key)
        if (prev === undefined || memory.generation > prev.generation) owner.set(key, { memberId: m.memberId, generation: memory.generation })
      }
    }
  }
  const previous = new Map<string, TP[]>(members.map((m) => [m.memberId, []]))
  for (const tp of all) {
    const o = owner.get(tpKey(tp))
    if (o !== undefined) previous.get(o.memberId)!.push(tp)
  }

  // Quotas: members that held the most get the larger share, so the fewest partitions move.
  const order = [...members].sort((a, b) => previous.get(b.memberId)!.length - previous.get(a.memberId)!.length || byId(a, b))
  const quota = new Map<string, number>()
  const homogeneous = members.every((m) => sameSet(subs.get(m.memberId)!, subs.get(members[0]!.memberId)!))
  if (homogeneous) {
    const base = Math.floor(all.length / members.length)
    const extra = all.length % members.length
    order.forEach((m, i) => quota.set(m.memberId, base + (i < extra ? 1 : 0)))
  } else {
    for (const m of members) {
      const mine = all.filter((tp) => subs.get(m.memberId)!.has(tp.topic)).length
      const sharing = members.filter((o) => [...subs.get(o.memberId)!].some((t) => subs.get(m.memberId)!.has(t))).length
      quota.set(m.memberId, Math.ceil(mine / Math.max(1, sharing)))
    }
  }

  const count = new Map<string, number>(members.map((m) => [m.memberId, 0]))
  const taken = new Set<string>()
  for (const m of order) {
    const q = quota.get(m.memberId)!
    for (const tp of previous.get(m.memberId)!) {
      if (count.get(m.memberId)! >= q) break
      addTo(result, m.memberId, tp)
      taken.add(tpKey(tp))
      count.set(m.memberId, count.get(m.memberId)! + 1)
    }
  }
  for (const tp of all) {
    if (taken.has(tpKey(tp))) continue
    const eligible = order.filter((m) => subs.get(m.memberId)!.has(tp.topic))
    if (eligible.length === 0) continue
    const under = eligible.filter((m) => count.get(m.memberId)! < quota.get(m.memberId)!)
    const pool = under.length > 0 ? under : eligible
    let best = pool[0]!
    for (const m of pool) if (count.get(m.memberId)! < count.get(best.memberId)!) best = m
    addTo(result, best.memberId, tp)
    count.set(best.memberId, count.get(best.memberId)! + 1)
  }
  for (const a of result.values()) for (const parts of Object.values(a)) parts.sort((x, y) => x - y)
  return result
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  return a.size === b.size && [...a].every((x) => b.has(x))
}

/** The `sticky` assignor as a kafkajs custom assigner; `memory` returns what this member owned last (kept by the consumer). */
export function stickyAssigner(memory: () => StickyMemory | null): PartitionAssigner {
  return toKafkajsAssigner(STICKY, assignSticky, () => encodeStickyUserData(memory()))
}
