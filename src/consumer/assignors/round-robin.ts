import type { AssignFn } from './types.js'
import { toKafkajsAssigner } from '../../kafkajs/assignors.js'
import { addTo, allPartitions, emptyAssignment, sortedMembers } from './types.js'

/** Protocol name shared with the Java client's RoundRobinAssignor. */
export const ROUND_ROBIN = 'roundrobin'

/** `round-robin`: all partitions in order dealt to the sorted members in turn, skipping members not subscribed to the topic. */
export const assignRoundRobin: AssignFn = (members, partitionsPerTopic) => {
  const result = emptyAssignment(members)
  const sorted = sortedMembers(members)
  if (sorted.length === 0) return result
  let cursor = 0
  for (const tp of allPartitions(partitionsPerTopic.keys(), partitionsPerTopic)) {
    for (let tried = 0; tried < sorted.length; tried++) {
      const m = sorted[(cursor + tried) % sorted.length]!
      if (m.topics.includes(tp.topic)) {
        addTo(result, m.memberId, tp)
        cursor = (cursor + tried + 1) % sorted.length
        break
      }
    }
  }
  return result
}

/** The `round-robin` assignor as a kafkajs custom assigner. */
export const roundRobinAssigner = toKafkajsAssigner(ROUND_ROBIN, assignRoundRobin)
