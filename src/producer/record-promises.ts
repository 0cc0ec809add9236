/**
 * The promises send() returns. A record appended on the synchronous path gets a promise derived from
 * one shared by the records of its batch (`SettleGroup`): per record that is one promise and one
 * reaction instead of a promise, two resolving functions and their context, about a third of the
 * memory an outstanding record held, and the garbage collector copies it while the record waits.
 * Reactions of one promise run in the order they were added, so the n-th derived promise takes the
 * n-th outcome.
 */
import type { KafkatuneError } from '../errors.js'
import type { RecordMetadata } from './types.js'

/** Receives the outcome of the record at `index` (each index once). */
export interface RecordSink {
  settle(index: number, md: RecordMetadata | null, err: KafkatuneError | null): void
}

/** A record that carries its index into a sink. */
export interface SinkTarget {
  sink: RecordSink | null
  index: number
}

const noop = (): void => undefined

/**
 * A rejected send() promise. Fire-and-forget sends must not crash the process with an unhandled
 * rejection: failures are logged, emitted as 'producer.error' and counted; awaiting callers still get them.
 */
export function rejectedSend(err: KafkatuneError): Promise<RecordMetadata> {
  const p = Promise.reject(err)
  p.catch(noop)
  return p
}

// The resolving functions of the promise being constructed: one shared executor instead of a closure
// per promise. Promise constructors run their executor synchronously.
let capturedResolve: ((v: never) => void) | null = null
let capturedReject: ((err: KafkatuneError) => void) | null = null
function captureResolvers(resolve: (v: never) => void, reject: (err: KafkatuneError) => void): void {
  capturedResolve = resolve
  capturedReject = reject
}

/** A promise of its own, for a record that waits for admission (async serializer, metadata, buffer space). */
export class OwnPromise implements RecordSink {
  readonly promise: Promise<RecordMetadata>
  private readonly resolve: (md: RecordMetadata) => void
  private readonly reject: (err: KafkatuneError) => void

  constructor(target: SinkTarget) {
    this.promise = new Promise<RecordMetadata>(captureResolvers)
    this.resolve = capturedResolve as (md: RecordMetadata) => void
    this.reject = capturedReject as (err: KafkatuneError) => void
    capturedResolve = null
    capturedReject = null
    target.sink = this
    target.index = 0
  }

  settle(_index: number, md: RecordMetadata | null, err: KafkatuneError | null): void {
    if (err === null) this.resolve(md as RecordMetadata)
    else {
      this.promise.catch(noop)
      this.reject(err)
    }
  }
}

/**
 * The records of one batch added on the synchronous path. Its shared promise resolves once every added
 * record is settled (they are settled together, with their batch); each record's promise then takes its
 * own outcome. No record can be added after that.
 */
export class SettleGroup implements RecordSink {
  private readonly outcomes: (RecordMetadata | KafkatuneError | undefined)[] = []
  /** The derived promises not settled yet (a failed one is marked handled, see `rejectedSend`). */
  private readonly promises: (Promise<RecordMetadata> | undefined)[] = []
  private unsettled = 0
  private taken = 0
  private resolveAll: ((v: never) => void) | null
  private readonly all: Promise<void>
  private readonly take = (): RecordMetadata => {
    const i = this.taken++
    const outcome = this.outcomes[i]
    this.outcomes[i] = undefined
    if (outcome instanceof Error) throw outcome
    return outcome as RecordMetadata
  }

  constructor() {
    this.all = new Promise<void>(captureResolvers)
    this.resolveAll = capturedResolve
    capturedResolve = null
    capturedReject = null
  }

  /** False once every added record was settled: the caller starts a new group. */
  get open(): boolean {
    return this.resolveAll !== null
  }

  /** The promise the caller of send() gets for `target`, added last. */
  add(target: SinkTarget): Promise<RecordMetadata> {
    const p = this.all.then(this.take)
    target.sink = this
    target.index = this.promises.length
    this.promises.push(p)
    this.outcomes.push(undefined)
    this.unsettled++
    return p
  }

  settle(index: number, md: RecordMetadata | null, err: KafkatuneError | null): void {
    if (err !== null) {
      this.promises[index]?.catch(noop)
      this.outcomes[index] = err
    } else this.outcomes[index] = md as RecordMetadata
    this.promises[index] = undefined
    if (--this.unsettled === 0 && this.resolveAll !== null) {
      const resolve = this.resolveAll
      this.resolveAll = null
      this.promises.length = 0
      resolve(undefined as never)
    }
  }
}
