/**
 * One send() from call to ack: the record the accumulator holds and the promise the caller awaits.
 */
import type { Span } from '@opentelemetry/api'
import type { KafkatuneError } from '../errors.js'
import { endSendSpan } from '../observability/tracing-producer.js'
import type { OutboundRecord } from './sender-types.js'
import type { TransactionToken } from './transaction.js'
import type { RecordMetadata } from './types.js'
import type { WireHeaders } from './headers.js'

export interface PendingHost {
  /** Bookkeeping once a record that held buffer space is settled. */
  settled(a: PendingSend, err: KafkatuneError | null): void
}

const noop = (): void => undefined

// The resolving functions of the promise being constructed: one shared executor instead of a closure
// (and its context) per record. Promise constructors run their executor synchronously.
let capturedResolve: ((md: RecordMetadata) => void) | null = null
let capturedReject: ((err: KafkatuneError) => void) | null = null
function captureResolvers(resolve: (md: RecordMetadata) => void, reject: (err: KafkatuneError) => void): void {
  capturedResolve = resolve
  capturedReject = reject
}

/** Send times are kept relative to this (small integers need no heap box per record). */
const CLOCK_BASE = Date.now()

/**
 * One send() from call to ack: the record the accumulator holds and the promise the caller awaits,
 * in one object (no closures per record: the hot path allocates little). Only what waits for the ack
 * lives here: every record is alive until then, so each field is copied by the garbage collector.
 */
export class PendingSend implements OutboundRecord {
  key: Buffer | null = null
  value: Buffer | null = null
  headers: WireHeaders | undefined = undefined
  timestamp = ''
  size = 0
  /** The record's `send <topic>` span while tracing is on (ended when the record settles). */
  span: Span | null = null
  private readonly sendAtOffset: number
  readonly promise: Promise<RecordMetadata>
  /** Null once settled (also lets the resolving functions be collected while the record waits in its batch). */
  private resolve: ((md: RecordMetadata) => void) | null
  private reject: ((err: KafkatuneError) => void) | null

  constructor(
    private readonly host: PendingHost,
    readonly seq: number,
    readonly token: TransactionToken | null,
    sendAt: number,
  ) {
    this.sendAtOffset = sendAt - CLOCK_BASE
    this.promise = new Promise<RecordMetadata>(captureResolvers)
    this.resolve = capturedResolve
    this.reject = capturedReject
    capturedResolve = null
    capturedReject = null
  }

  /** When send() was called (ms). */
  get sendAt(): number {
    return CLOCK_BASE + this.sendAtOffset
  }

  settle(md: RecordMetadata | null, err: KafkatuneError | null): boolean {
    const resolve = this.resolve
    const reject = this.reject
    if (resolve === null || reject === null) return false
    this.resolve = null
    this.reject = null
    this.host.settled(this, err)
    if (this.span !== null) this.endSpan(md, err)
    if (err === null) resolve(md as RecordMetadata)
    else PendingSend.rejectWith(this.promise, reject, err)
    return true
  }

  /** Rejects the caller's promise (bookkeeping is the caller's job). */
  fail(err: KafkatuneError): void {
    const reject = this.reject
    this.resolve = null
    this.reject = null
    if (this.span !== null) this.endSpan(null, err)
    if (reject !== null) PendingSend.rejectWith(this.promise, reject, err)
  }

  private endSpan(md: RecordMetadata | null, err: KafkatuneError | null): void {
    const span = this.span as Span
    this.span = null
    endSendSpan(span, md, err)
  }

  private static rejectWith(promise: Promise<RecordMetadata>, reject: (err: KafkatuneError) => void, err: KafkatuneError): void {
    // Fire-and-forget sends must not crash the process with an unhandled rejection: failures are
    // logged, emitted as 'producer.error' and counted in metrics(); awaiting callers still get them.
    promise.catch(noop)
    reject(err)
  }
}
