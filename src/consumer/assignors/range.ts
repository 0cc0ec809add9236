import type { AssignFn } from './types.js'
import { toKafkajsAssigner } from '../../kafkajs/assignors.js'
import { addTo, emptyAssignment, sortedMembers } from './types.js'

/** Protocol name shared with the Java client's RangeAssignor. */
export const RANGE = 'range'

/**
 * `range`: per topic, the sorted members each get a contiguous range of partitions; the first
 * `partitions % members` get one extra (as Java's RangeAssignor).
 */
export const assignRange: AssignFn = (members, partitionsPerTopic) => {
  const result = emptyAssignment(members)
  const sorted = sortedMembers(members)
  for (const topic of [...partitionsPerTopic.keys()].sort()) {
    const subscribers = sorted.filter((m) => m.topics.includes(topic))
    if (subscribers.length === 0) continue
    const partitions = [...(partitionsPerTopic.get(topic) ?? [])].sort((a, b) => a - b)
    const per = Math.floor(partitions.length / subscribers.length)
    const extra = partitions.length % subscribers.length
    let next = 0
    subscribers.forEach((m, i) => {
      const n = per + (i < extra ? 1 : 0)
      for (const partition of partitions.slice(next, next + n)) addTo(result, m.memberId, { topic, partition })
      next += n
    })
  }
  return result
}

/** The `range` assignor as a kafkajs custom assigner. */
export const rangeAssigner = toKafkajsAssigner(RANGE, assignRange)
