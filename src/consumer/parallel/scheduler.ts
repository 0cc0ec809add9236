/**
 * Schedules records on one `p-queue` (the consumer-wide concurrency limit) in lanes. A lane is a FIFO of jobs
 * that at most `maxRunners` p-queue tasks drain at once: with ordering 'key' one lane per key (one runner, so a
 * key's records run one after another in the order added while other keys overtake a slow one); records with a
 * null key, and every record with 'unordered', share one lane per partition drained by up to `concurrency`
 * runners. A runner takes up to `burst` jobs back to back and then goes to the back of the queue, so a p-queue
 * task (a promise, closures, events) is paid per burst rather than per record, and a busy key cannot keep a
 * slot from the others.
 */
import PQueue from 'p-queue'

export interface Lane<J> {
  readonly jobs: (J | undefined)[]
  /** Index of the next job to take. */
  head: number
  /** p-queue tasks queued or running for this lane. */
  runners: number
  readonly maxRunners: number
  /** Given up (its runner hung past the guard): no more runners start for it, its map entry is gone. */
  detached: boolean
  readonly key: string | null
  readonly group: LaneGroup<J>
}

/** The lanes of one partition. */
export interface LaneGroup<J> {
  readonly byKey: Map<string, Lane<J>>
  shared: Lane<J> | null
}

/** Drains up to `budget` jobs of `lane` (taking them with `KeyScheduler.take`). */
export type LaneWork<J> = (lane: Lane<J>, budget: number) => Promise<void>

/** Jobs one p-queue task runs back to back before the lane queues again behind the others. */
export const BURST = 32

export class KeyScheduler<J> {
  readonly #queue: PQueue
  readonly #groups = new Map<string, LaneGroup<J>>()

  constructor(
    readonly concurrency: number,
    private readonly byKey: boolean,
    private readonly work: LaneWork<J>,
  ) {
    this.#queue = new PQueue({ concurrency })
  }

  /** p-queue tasks running now. */
  get running(): number {
    return this.#queue.pending
  }

  /** The lanes of the partition `partitionKey`. */
  group(partitionKey: string): LaneGroup<J> {
    let g = this.#groups.get(partitionKey)
    if (g === undefined) {
      g = { byKey: new Map(), shared: null }
      this.#groups.set(partitionKey, g)
    }
    return g
  }

  /** Keys whose next record waits (for a slot, or behind the key's running record). */
  get keysWaiting(): number {
    let n = 0
    for (const g of this.#groups.values()) {
      for (const lane of g.byKey.values()) if (lane.head < lane.jobs.length) n++
      if (g.shared !== null) n += g.shared.jobs.length - g.shared.head
    }
    return n
  }

  /** Adds a job to its lane (`key` is only looked at with ordering 'key'; null is a key of its own per record). */
  add(group: LaneGroup<J>, key: string | null, job: J): void {
    let lane: Lane<J> | undefined
    if (this.byKey && key !== null) {
      lane = group.byKey.get(key)
      if (lane === undefined) {
        lane = { jobs: [], head: 0, runners: 0, maxRunners: 1, detached: false, key, group }
        group.byKey.set(key, lane)
      }
    } else lane = group.shared ??= { jobs: [], head: 0, runners: 0, maxRunners: this.concurrency, detached: false, key: null, group }
    lane.jobs.push(job)
    if (lane.runners < lane.maxRunners) this.#activate(lane)
  }

  /** The next job of `lane`, or undefined when it is empty. */
  take(lane: Lane<J>): J | undefined {
    if (lane.head >= lane.jobs.length) return undefined
    const job = lane.jobs[lane.head]
    lane.jobs[lane.head++] = undefined
    // A long-lived shared lane drops what its runners took, now and then, not per job.
    if (lane.head > 1024 && lane.head * 2 > lane.jobs.length) {
      lane.jobs.splice(0, lane.head)
      lane.head = 0
    }
    return job
  }

  /** Gives a lane up: its jobs not taken are returned and it is forgotten (new jobs of its key start a new lane). */
  detach(lane: Lane<J>): J[] {
    lane.detached = true
    if (lane.key !== null && lane.group.byKey.get(lane.key) === lane) lane.group.byKey.delete(lane.key)
    if (lane.group.shared === lane) lane.group.shared = null
    const rest = lane.jobs.slice(lane.head) as J[]
    lane.jobs.length = 0
    lane.head = 0
    return rest
  }

  #activate(lane: Lane<J>): void {
    lane.runners++
    // Jobs report their own failures; a rejection here would be a bug in the loop, not a record's failure.
    void this.#queue.add(() => this.#turn(lane))
  }

  async #turn(lane: Lane<J>): Promise<void> {
    try {
      await this.work(lane, BURST)
    } finally {
      lane.runners--
      if (!lane.detached) {
        if (lane.head < lane.jobs.length) {
          if (lane.runners < lane.maxRunners) this.#activate(lane)
        } else if (lane.runners === 0 && lane.key !== null && lane.group.byKey.get(lane.key) === lane) lane.group.byKey.delete(lane.key)
      }
    }
  }
}
