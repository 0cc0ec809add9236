/**
 * Group membership as the consumer sees it: what it owns, what it remembers for the sticky assignor, and the
 * rebalance hooks (awaited: revoked before the rejoin, after committing what finished; assigned before
 * fetching). kafkajs' group protocol is eager: every rebalance revokes everything and assigns anew.
 */
import type { Logger } from '../logging/types.js'
import { NO_GENERATION } from './assignors/index.js'
import type { StickyMemory, TopicPartitions } from './assignors/index.js'
import type { GroupCommitter } from './committer.js'
import type { ConsumerMetricsRecorder } from './metrics.js'
import { partitionKey } from './offsets.js'
import type { OffsetTracker, TopicPartitionOffset } from './offsets.js'
import type { GroupJoinEvent, RebalanceHandlers } from './types.js'
import type { ConsumerEventMap } from './types.js'

export interface MembershipHost {
  handlers(): RebalanceHandlers | null
  running(): boolean
  /** Resolves when no handler is running. */
  idle(): Promise<void>
  seek(position: TopicPartitionOffset): void
  emit<E extends 'group-join' | 'partitions-assigned' | 'partitions-revoked'>(event: E, payload: Parameters<ConsumerEventMap[E]>[0]): void
  /** The generation of the assignment a member received (for the sticky assignor's userData). */
  generationOf(memberId: string): number | undefined
}

export class Membership {
  assignment: TopicPartitions = {}
  stickyMemory: StickyMemory | null = null
  #owned = new Set<string>()
  #joins = 0

  constructor(
    private readonly tracker: OffsetTracker,
    private readonly committer: GroupCommitter,
    private readonly metrics: ConsumerMetricsRecorder,
    private readonly log: Logger,
    private readonly host: MembershipHost,
    /** The rebalance timeout: how long a revocation may wait for running handlers. */
    private readonly maxWaitMs: number,
  ) {}

  owns(topic: string, partition: number): boolean {
    return this.#owned.has(partitionKey(topic, partition))
  }

  /** kafkajs' GROUP_JOIN: the new assignment. */
  joined(memberId: string, assignment: TopicPartitions): void {
    this.#joins++
    if (this.#joins > 1) this.metrics.rebalances++
    this.assignment = assignment
    this.stickyMemory = { generation: this.host.generationOf(memberId) ?? NO_GENERATION, assignment }
    this.#owned = new Set(Object.entries(assignment).flatMap(([t, ps]) => ps.map((p) => partitionKey(t, p))))
    // Progress on partitions that moved elsewhere belongs to the new owner now.
    const retainedPending = new Set(this.tracker.pending().map((o) => partitionKey(o.topic, o.partition)).filter((k) => this.#owned.has(k)))
    this.tracker.retain(this.#owned)
    // kafkajs restarts a kept partition from the committed offset, which may lag behind what this member
    // finished (the commit on revoke can race the join): continue exactly where processing stopped.
    for (const pos of this.tracker.positions()) {
      try {
        this.host.seek(pos)
      } catch (err) {
        this.log.debug({ err, ...pos }, 'seek after rejoin failed')
      }
    }
    this.metrics.retainLag(new Set(Object.entries(assignment).flatMap(([t, ps]) => ps.map((p) => `${t}/${p}`))))
    if (retainedPending.size > 0 && this.host.running()) this.committer.commitSoon()
    this.log.info({ memberId, assignment }, 'joined the group')
    this.host.emit('group-join', { memberId, assignment } satisfies GroupJoinEvent)
  }

  /** Before this member rejoins: let running handlers finish, commit, then the revoked hook. */
  async beforeRejoin(): Promise<void> {
    const revoked = this.assignment
    if (Object.keys(revoked).length === 0) return
    await Promise.race([this.host.idle(), new Promise((r) => setTimeout(r, this.maxWaitMs).unref())])
    if (this.host.running()) {
      await this.committer.commitPending().catch((err: unknown) => this.log.warn({ err }, 'commit on revoke failed'))
    }
    await this.callHook('onPartitionsRevoked', revoked)
    this.host.emit('partitions-revoked', revoked)
  }

  /** After a join, before fetching: the assigned hook. */
  async afterJoin(): Promise<void> {
    await this.callHook('onPartitionsAssigned', this.assignment)
    this.host.emit('partitions-assigned', this.assignment)
  }

  private async callHook(name: 'onPartitionsAssigned' | 'onPartitionsRevoked', partitions: TopicPartitions): Promise<void> {
    const hook = this.host.handlers()?.[name]
    if (hook === undefined) return
    try {
      await hook(partitions)
    } catch (err) {
      // A failing hook must not break the group protocol; it is the user's to report.
      this.log.warn({ err, partitions }, `${name} threw`)
    }
  }
}
