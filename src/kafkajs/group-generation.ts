/**
 * The generation id of the group assignment each member received. kafkajs 2.2.4 keeps it private
 * (its GROUP_JOIN event carries no generation), but the sticky assignor's userData needs it in the format
 * the Java client reads: Java honours only claims from the newest generation in the group, so a made-up
 * number (a clock, a counter) would make Java members or kafkatune members lose their stickiness.
 * One wrapper around kafkajs' `Broker.syncGroup` records it; nothing else kafkajs does changes.
 */
import { createRequire } from 'node:module'

const requireFromHere = createRequire(import.meta.url)
const WRAPPED = Symbol.for('kafkatune.syncGroupGeneration')
/** memberId -> generation of the last SyncGroup that member completed. Member ids are unique per join. */
const generations = new Map<string, number>()
const MAX_REMEMBERED = 10_000
let installed: boolean | null = null

type SyncGroup = ((args: { groupId: string; generationId: number; memberId: string }) => Promise<unknown>) & { [WRAPPED]?: true }

/** Installs the wrapper once per process; false when kafkajs' layout is not the one it was written for. */
export function installGroupGenerationHook(): boolean {
  if (installed !== null) return installed
  installed = false
  try {
    const Broker = requireFromHere('kafkajs/src/broker/index.js') as { prototype: { syncGroup?: SyncGroup } }
    const original = Broker.prototype.syncGroup
    if (typeof original !== 'function') return false
    if (original[WRAPPED] === true) return (installed = true)
    const wrapped: SyncGroup = async function (this: unknown, args) {
      const response = await original.call(this, args)
      if (generations.size >= MAX_REMEMBERED) generations.delete(generations.keys().next().value as string)
      generations.set(args.memberId, args.generationId)
      return response
    }
    wrapped[WRAPPED] = true
    Broker.prototype.syncGroup = wrapped
    installed = true
  } catch {
    installed = false
  }
  return installed
}

/** The generation of the assignment `memberId` received last, or undefined when unknown. */
export function generationOf(memberId: string): number | undefined {
  return generations.get(memberId)
}

/** Forgets a member (after it left the group). */
export function forgetGeneration(memberId: string): void {
  generations.delete(memberId)
}
