/**
 * Awaited rebalance hooks for kafkajs consumers. kafkajs 2.2.4 emits its REBALANCING event and rejoins at
 * once without waiting for listeners, so a consumer could not commit and flush before its partitions move.
 * One wrapper around `ConsumerGroup.joinAndSync` awaits the hooks registered for the member (by member id):
 * `beforeRejoin` before the JoinGroup of a member that owned partitions, `afterJoin` once the new assignment
 * is known and before fetching starts. Nothing else kafkajs does changes.
 */
import { createRequire } from 'node:module'

const requireFromHere = createRequire(import.meta.url)
const WRAPPED = Symbol.for('kafkatune.joinAndSyncHooks')

/** What a consumer wants to run around its group's rejoin. */
export interface RejoinHooks {
  beforeRejoin(): Promise<void>
  afterJoin(): Promise<void>
}

const byMember = new Map<string, RejoinHooks>()
let installed: boolean | null = null

type JoinAndSync = ((this: { memberId: string | null }) => Promise<unknown>) & { [WRAPPED]?: true }

/** Installs the wrapper once per process; false when kafkajs' layout is not the one it was written for. */
export function installRebalanceHooks(): boolean {
  if (installed !== null) return installed
  installed = false
  try {
    const ConsumerGroup = requireFromHere('kafkajs/src/consumer/consumerGroup.js') as { prototype: { joinAndSync?: JoinAndSync } }
    const original = ConsumerGroup.prototype.joinAndSync
    if (typeof original !== 'function') return false
    if (original[WRAPPED] === true) return (installed = true)
    const wrapped: JoinAndSync = async function (this: { memberId: string | null }) {
      const before = this.memberId === null ? undefined : byMember.get(this.memberId)
      if (before !== undefined) await before.beforeRejoin()
      const result = await original.call(this)
      const after = this.memberId === null ? undefined : byMember.get(this.memberId)
      if (after !== undefined) await after.afterJoin()
      return result
    }
    wrapped[WRAPPED] = true
    ConsumerGroup.prototype.joinAndSync = wrapped
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
}
