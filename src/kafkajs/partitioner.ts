/**
 * A kafkatune partitioner as a kafkajs partitioner, for clients that hand whole batches to kafkajs (the
 * pipeline's transactional producers): kafkajs supplies the topic's partition metadata, kafkatune chooses.
 */
import type { ICustomPartitioner, PartitionMetadata } from 'kafkajs'
import type { Partitioner } from '../partitioners/types.js'

/** Adapts `partitioner`; records arrive serialized, so it sees key bytes (what murmur2 hashes), not the user's key. */
export function toKafkajsPartitioner(partitioner: Partitioner<unknown, unknown>): ICustomPartitioner {
  return () =>
    ({ topic, partitionMetadata, message }) => {
      const available = partitionMetadata.filter((p: PartitionMetadata) => p.leader >= 0).map((p: PartitionMetadata) => p.partitionId)
      const keyBytes = message.key === null || message.key === undefined ? null : Buffer.isBuffer(message.key) ? message.key : Buffer.from(message.key)
      const value = message.value ?? null
      return partitioner.partition({
        topic,
        key: keyBytes,
        keyBytes,
        value,
        ...(message.partition !== undefined ? { partition: message.partition } : {}),
        partitionCount: partitionMetadata.length,
        availablePartitions: available,
        recordSize: (keyBytes?.length ?? 0) + (value === null ? 0 : Buffer.byteLength(value)),
      })
    }
}
