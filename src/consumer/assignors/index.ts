import type { PartitionAssigner } from 'kafkajs'
import type { AssignorName } from '../../config/types.js'
import { KafkatuneError } from '../../errors.js'
import { rangeAssigner } from './range.js'
import { roundRobinAssigner } from './round-robin.js'
import type { StickyMemory } from './sticky.js'
import { stickyAssigner } from './sticky.js'
import { installGroupGenerationHook } from '../../kafkajs/group-generation.js'

export type { AssignFn, AssignorMember, TopicPartitions } from './types.js'
export { assignRange, rangeAssigner, RANGE } from './range.js'
export { assignRoundRobin, roundRobinAssigner, ROUND_ROBIN } from './round-robin.js'
export { assignSticky, stickyAssigner, encodeStickyUserData, decodeStickyUserData, NO_GENERATION, STICKY } from './sticky.js'
export type { StickyMemory } from './sticky.js'

/** kafkajs assigners for the names in `partitionAssignors`, in preference order. */
export function createAssigners(names: readonly AssignorName[], memory: () => StickyMemory | null): PartitionAssigner[] {
  return names.map((name) => {
    switch (name) {
      case 'range':
        return rangeAssigner
      case 'round-robin':
        return roundRobinAssigner
      case 'sticky':
        installGroupGenerationHook()
        return stickyAssigner(memory)
      case 'cooperative-sticky':
        // Config validation rejects it first; this guards hand-built settings.
        throw new KafkatuneError('CONFIG_INVALID', "partitionAssignors: 'cooperative-sticky' needs the cooperative protocol, which kafkajs lacks; use 'sticky'", { retriable: false })
    }
  })
}
