/**
 * One send() from call to ack: the record the accumulator holds until its batch is answered. The
 * caller's promise lives elsewhere (record-promises.ts): shared by the records of one batch on the
 * synchronous path, per record when the record waited for admission.
 */
import type { Span } from '@opentelemetry/api'
import type { KafkatuneError } from '../errors.js'
import { endSendSpan } from '../observability/tracing-producer.js'
import type { RecordSink } from './record-promises.js'
import { rejectedSend } from './record-promises.js'
import type { OutboundRecord } from './sender-types.js'
import type { TransactionToken } from './transaction.js'
import type { RecordMetadata } from './types.js'
import type { WireHeaders } from './headers.js'

export interface PendingHost {
  /** Bookkeeping once a record that held buffer space is settled. */
  settled(a: PendingSend, err: KafkatuneError | null): void
}

/** Send times are kept relative to this (small integers need no heap box per record). */
const CLOCK_BASE = Date.now()

/**
 * A record waiting for its ack. Every record is alive until then and each field is copied by the
 * garbage collector, so it holds no promise, no resolving functions and no closure of its own.
 */
export class PendingSend implements OutboundRecord {
  key: Buffer | null = null
  value: Buffer | null = null
  headers: WireHeaders | undefined = undefined
  timestamp = ''
  size = 0
  /** The record's `send <topic>` span while tracing is on (ended when the record settles). */
  span: Span | null = null
  /** Where the outcome goes; null before the record has a promise and once it is settled. */
  sink: RecordSink | null = null
  /** The record's place in `sink`. */
  index = 0
  private readonly sendAtOffset: number

  constructor(
    private readonly host: PendingHost,
    readonly seq: number,
    readonly token: TransactionToken | null,
    sendAt: number,
  ) {
    this.sendAtOffset = sendAt - CLOCK_BASE
  }

  /** When send() was called (ms). */
  get sendAt(): number {
    return CLOCK_BASE + this.sendAtOffset
  }

  /** Settles the record once (false when it was settled before), then does the host's bookkeeping. */
  settle(md: RecordMetadata | null, err: KafkatuneError | null): boolean {
    const sink = this.sink
    if (sink === null) return false
    this.sink = null
    // The caller's promise first: a flush() that this record completes resolves after it.
    sink.settle(this.index, md, err)
    this.host.settled(this, err)
    if (this.span !== null) this.endSpan(md, err)
    return true
  }

  /**
   * Fails a record that never reached a batch (bookkeeping is the caller's job): rejects its promise, or,
   * when it has none yet, returns the rejected promise the caller gets.
   */
  fail(err: KafkatuneError): Promise<RecordMetadata> | null {
    const sink = this.sink
    this.sink = null
    if (this.span !== null) this.endSpan(null, err)
    if (sink === null) return rejectedSend(err)
    sink.settle(this.index, null, err)
    return null
  }

  private endSpan(md: RecordMetadata | null, err: KafkatuneError | null): void {
    const span = this.span as Span
    this.span = null
    endSendSpan(span, md, err)
  }
}
