/**
 * Schedules records on one `p-queue` (the consumer-wide concurrency limit). Work waits in one FIFO of ready
 * items: a record without an order to keep (a null key, or any record with 'unordered') is an item of its own;
 * with ordering 'key' a key's records wait in the key's lane, and the lane is one item while it has records and
 * no runner. A runner is one p-queue task: it takes the next item, runs up to `BURST` records of a lane back to
 * back (so a key's records run one after another in the order added, while other keys overtake a slow one), puts
 * a lane that still has records back at the end of the FIFO, and goes on until the FIFO is empty. So a p-queue
 * task (a promise, closures, events) is paid per runner start, not per record, and p-queue still decides how many
 * run at once.
 */
import PQueue from 'p-queue'

export interface Lane<J> {
  readonly jobs: (J | undefined)[]
  /** Index of the next job to take. */
  head: number
  /** In the ready FIFO, or taken by a runner: in either case not to be queued again. */
  busy: boolean
  /** Given up (its runner hung past the guard): forgotten, its records dropped. */
  detached: boolean
  readonly key: string
  readonly group: LaneGroup<J>
}

/** The key lanes of one partition. */
export interface LaneGroup<J> {
  readonly byKey: Map<string, Lane<J>>
}

/** What a runner works on: the lane it took (null while it runs free records) and how much of it is left. */
export interface RunnerSlot<J> {
  lane: Lane<J> | null
  budget: number
}

/** Records one runner takes from a lane before the lane goes to the back of the FIFO. */
export const BURST = 32
/** Empty lanes are kept (a key seen again needs no new lane) until a partition has this many. */
const IDLE_LANES = 4096

function isLane<J>(item: unknown): item is Lane<J> {
  return (item as { group?: unknown }).group !== undefined && (item as { jobs?: unknown }).jobs !== undefined
}

export class KeyScheduler<J extends object> {
  readonly #queue: PQueue
  readonly #groups = new Map<string, LaneGroup<J>>()
  /** Ready items (lanes and free records), FIFO from `#head`. */
  #ready: (Lane<J> | J | undefined)[] = []
  #head = 0
  #runners = 0

  /** `runner` drains the scheduler with `next()` until it returns undefined (or, given up, calls `leave()`). */
  constructor(
    readonly concurrency: number,
    private readonly byKey: boolean,
    private readonly runner: () => Promise<void>,
  ) {
    this.#queue = new PQueue({ concurrency })
  }

  /** Runners (p-queue tasks) started and not finished. */
  get runners(): number {
    return this.#runners
  }

  /** The lanes of the partition `partitionKey`. */
  group(partitionKey: string): LaneGroup<J> {
    let g = this.#groups.get(partitionKey)
    if (g === undefined) {
      g = { byKey: new Map() }
      this.#groups.set(partitionKey, g)
    }
    return g
  }

  /** Keys whose next record waits (for a runner, or behind the key's running record). */
  get keysWaiting(): number {
    let n = 0
    for (const g of this.#groups.values()) for (const lane of g.byKey.values()) if (lane.head < lane.jobs.length) n++
    for (let i = this.#head; i < this.#ready.length; i++) if (!isLane(this.#ready[i])) n++
    return n
  }

  /** Adds a record (`key` is only looked at with ordering 'key'; null is a key of its own per record). */
  add(group: LaneGroup<J>, key: string | null, job: J): void {
    if (!this.byKey || key === null) {
      this.#push(job)
      return
    }
    let lane = group.byKey.get(key)
    if (lane === undefined) {
      if (group.byKey.size >= IDLE_LANES) this.#sweep(group)
      lane = { jobs: [], head: 0, busy: false, detached: false, key, group }
      group.byKey.set(key, lane)
    }
    lane.jobs.push(job)
    if (!lane.busy) {
      lane.busy = true
      this.#push(lane)
    }
  }

  #push(item: Lane<J> | J): void {
    this.#ready.push(item)
    if (this.#runners < this.concurrency) {
      this.#runners++
      // A runner reports its records' failures itself; a rejection here would be a bug in the loop.
      void this.#queue.add(this.runner)
    }
  }

  /** The next record for a runner, or undefined when there is nothing to do (the runner then ends). */
  next(slot: RunnerSlot<J>): J | undefined {
    const lane = slot.lane
    if (lane !== null) {
      if (!lane.detached && lane.head < lane.jobs.length && slot.budget-- > 0) return this.#take(lane)
      slot.lane = null
      if (!lane.detached) {
        if (lane.head < lane.jobs.length) this.#ready.push(lane)
        else {
          lane.busy = false
          lane.jobs.length = 0
          lane.head = 0
        }
      }
    }
    while (this.#head < this.#ready.length) {
      const item = this.#ready[this.#head]!
      this.#ready[this.#head++] = undefined
      if (this.#head > 1024 && this.#head * 2 > this.#ready.length) {
        this.#ready = this.#ready.slice(this.#head)
        this.#head = 0
      }
      if (!isLane<J>(item)) return item
      if (item.detached || item.head >= item.jobs.length) continue
      slot.lane = item
      slot.budget = BURST - 1
      return this.#take(item)
    }
    // Counted out here, not when its task settles: a record added in between must start a runner.
    this.#runners--
    return undefined
  }

  /** A runner given up by the guard ended without `next()` returning undefined to it. */
  leave(): void {
    this.#runners--
  }

  #take(lane: Lane<J>): J {
    const job = lane.jobs[lane.head]!
    lane.jobs[lane.head++] = undefined
    return job
  }

  /** Gives a lane up: the records not taken are returned and the key starts a new lane. */
  detach(lane: Lane<J>): J[] {
    lane.detached = true
    if (lane.group.byKey.get(lane.key) === lane) lane.group.byKey.delete(lane.key)
    const rest = lane.jobs.slice(lane.head) as J[]
    lane.jobs.length = 0
    lane.head = 0
    return rest
  }

  /** Forgets the idle lanes of a partition with many keys. */
  #sweep(group: LaneGroup<J>): void {
    for (const [key, lane] of group.byKey) if (!lane.busy) group.byKey.delete(key)
  }
}
