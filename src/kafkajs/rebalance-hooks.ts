/**
 * Awaited rebalance hooks for kafkajs consumers. kafkajs 2.2.4 emits its REBALANCING event and rejoins at
 * once without waiting for listeners, so a consumer could not commit and flush before its partitions move.
 * One wrapper around `ConsumerGroup.joinAndSync` awaits the hooks registered for the member (by member id):
 * `beforeRejoin` before the JoinGroup of a member that owned partitions, `afterJoin` once the new assignment
 * is known and before fetching starts. Nothing else kafkajs does changes, except for a member that asked to
 * leave and join again (`requestRejoin`, kafkajs has no call for it): its next heartbeat fails as in a rebalance,
 * so kafkajs rejoins, and the wrapper sends a LeaveGroup after `beforeRejoin`, so the member joins as a new one and
 * its partitions are assigned afresh (a known follower's JoinGroup alone would get the same assignment back).
 */
import { createRequire } from 'node:module'
import { kafkajsErrorFromCode } from './internals.js'

const requireFromHere = createRequire(import.meta.url)
const WRAPPED = Symbol.for('kafkatune.joinAndSyncHooks')

/** What a consumer wants to run around its group's rejoin. */
export interface RejoinHooks {
  beforeRejoin(): Promise<void>
  afterJoin(): Promise<void>
}

const byMember = new Map<string, RejoinHooks>()
/** Members that asked to leave the group and join again. */
const rejoining = new Set<string>()
let installed: boolean | null = null

/** kafkajs' REBALANCE_IN_PROGRESS: what its runner answers by rejoining. */
const REBALANCE_IN_PROGRESS = 27

interface Group {
  memberId: string | null
  leave(): Promise<void>
}
type JoinAndSync = ((this: Group) => Promise<unknown>) & { [WRAPPED]?: true }
type Heartbeat = ((this: Group, args: unknown) => Promise<unknown>) & { [WRAPPED]?: true }

/** Installs the wrapper once per process; false when kafkajs' layout is not the one it was written for. */
export function installRebalanceHooks(): boolean {
  if (installed !== null) return installed
  installed = false
  try {
    const ConsumerGroup = requireFromHere('kafkajs/src/consumer/consumerGroup.js') as { prototype: { joinAndSync?: JoinAndSync; heartbeat?: Heartbeat; leave?: unknown } }
    const original = ConsumerGroup.prototype.joinAndSync
    const heartbeat = ConsumerGroup.prototype.heartbeat
    if (typeof original !== 'function' || typeof heartbeat !== 'function' || typeof ConsumerGroup.prototype.leave !== 'function') return false
    if (original[WRAPPED] === true) return (installed = true)
    const wrapped: JoinAndSync = async function (this: Group) {
      const leaving = this.memberId !== null && rejoining.delete(this.memberId)
      const before = this.memberId === null ? undefined : byMember.get(this.memberId)
      if (before !== undefined) await before.beforeRejoin()
      // After the commit of what finished: the partitions go back to the group, this member joins as a new one.
      if (leaving) await this.leave()
      const result = await original.call(this)
      const after = this.memberId === null ? undefined : byMember.get(this.memberId)
      if (after !== undefined) await after.afterJoin()
      return result
    }
    wrapped[WRAPPED] = true
    ConsumerGroup.prototype.joinAndSync = wrapped
    const beat: Heartbeat = async function (this: Group, args: unknown) {
      if (this.memberId !== null && rejoining.has(this.memberId)) throw kafkajsErrorFromCode(REBALANCE_IN_PROGRESS)
      return heartbeat.call(this, args)
    }
    beat[WRAPPED] = true
    ConsumerGroup.prototype.heartbeat = beat
    installed = true
  } catch {
    installed = false
  }
  return installed
}

/** Registers the hooks of the member `memberId` (called from its GROUP_JOIN event, before `afterJoin` runs). */
export function registerRejoinHooks(memberId: string, hooks: RejoinHooks): void {
  byMember.set(memberId, hooks)
}

/** Forgets a member's hooks (it left, or rejoined under a new id). */
export function unregisterRejoinHooks(memberId: string): void {
  byMember.delete(memberId)
  rejoining.delete(memberId)
}

/**
 * Makes the member `memberId` leave the group and join again as a new member, at its next heartbeat (kafkajs
 * heartbeats after every batch and every empty fetch). False when the hooks are not installed.
 */
export function requestRejoin(memberId: string): boolean {
  if (installed !== true) return false
  rejoining.add(memberId)
  return true
}
