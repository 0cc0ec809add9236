import { AssignerProtocol } from 'kafkajs'
import type { Assigner, PartitionAssigner } from 'kafkajs'
import type { AssignFn, AssignorMember } from '../consumer/assignors/types.js'

/**
 * Wraps a pure assign function as a kafkajs custom assigner.
 * `userData` is called at every join so a member can tell the leader what it owned before.
 */
export function toKafkajsAssigner(name: string, assign: AssignFn, userData?: () => Buffer): PartitionAssigner {
  return ({ cluster }) => {
    const assigner: Assigner = {
      name,
      version: 0,
      async assign({ members, topics }) {
        const decoded: AssignorMember[] = members.map((m) => {
          const meta = AssignerProtocol.MemberMetadata.decode(m.memberMetadata)
          return { memberId: m.memberId, topics: meta?.topics ?? [], userData: meta?.userData }
        })
        const partitionsPerTopic = new Map<string, number[]>()
        for (const topic of topics) {
          partitionsPerTopic.set(
            topic,
            cluster.findTopicPartitionMetadata(topic).map((p) => p.partitionId),
          )
        }
        const result = assign(decoded, partitionsPerTopic)
        return [...result.entries()].map(([memberId, assignment]) => ({
          memberId,
          memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 0, assignment, userData: Buffer.alloc(0) }),
        }))
      },
      protocol({ topics }) {
        return {
          name,
          metadata: AssignerProtocol.MemberMetadata.encode({ version: 0, topics, userData: userData?.() ?? Buffer.alloc(0) }),
        }
      },
    }
    return assigner
  }
}
