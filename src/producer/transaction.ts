/**
 * `producer.transaction(fn)`: one transaction at a time per producer; begin, run the callback, flush
 * its records, commit; abort when anything fails. A failed commit or abort recreates the kafkajs
 * producer so the kafkatune producer stays usable; fencing makes it refuse to write for good.
 */
import { KafkatuneError } from '../errors.js'
import type { KafkajsProducerEngine } from './engine.js'
import type { ProducerRecord, RecordMetadata, Transaction } from './types.js'

/** What the transaction runner needs from the producer. */
export interface TransactionHost<K, V> {
  engine: KafkajsProducerEngine
  /** Sends a record that belongs to transaction `token`. */
  send(record: ProducerRecord<K, V>, token: TransactionToken): Promise<RecordMetadata>
  /** Resolves when every record sent so far is settled (forces lingering batches out). */
  flush(): Promise<void>
  /** Fails queued records and waits until no request is in flight. */
  discard(error: KafkatuneError): Promise<void>
  /** The producer's fencing error, if it was fenced. */
  fenced(): KafkatuneError | null
  markFenced(error: KafkatuneError): void
  reset(reason: string): Promise<void>
}

/** The identity of one running transaction; records remember it, failures are collected on it. */
export interface TransactionToken {
  open: boolean
  failure: KafkatuneError | null
}

/** Serialises transactions and runs each (see the file comment). */
export class TransactionRunner<K, V> {
  private tail: Promise<unknown> = Promise.resolve()
  private current: TransactionToken | null = null

  constructor(private readonly host: TransactionHost<K, V>) {}

  /** The open transaction, if any (producer.send() joins it, as in the Java client). */
  get active(): TransactionToken | null {
    return this.current
  }

  run<T>(fn: (tx: Transaction<K, V>) => Promise<T>): Promise<T> {
    const result = this.tail.then(() => this.runOne(fn))
    this.tail = result.catch(() => undefined)
    return result
  }

  private async runOne<T>(fn: (tx: Transaction<K, V>) => Promise<T>): Promise<T> {
    const host = this.host
    const fenced = host.fenced()
    if (fenced !== null) throw fenced
    try {
      await host.engine.begin()
    } catch (err) {
      throw this.noteFencing(err)
    }
    const token: TransactionToken = { open: true, failure: null }
    this.current = token
    const tx: Transaction<K, V> = {
      send: (record) => {
        if (!token.open) return Promise.reject(new KafkatuneError('TRANSACTION_ABORTED', 'This transaction has ended: send() must be called inside its callback', { retriable: false }))
        return host.send(record, token)
      },
      sendOffsets: async ({ consumerGroupId, offsets }) => {
        if (!token.open) throw new KafkatuneError('TRANSACTION_ABORTED', 'This transaction has ended: sendOffsets() must be called inside its callback', { retriable: false })
        try {
          await host.engine.sendOffsets(consumerGroupId, offsets)
        } catch (err) {
          const e = this.noteFencing(err)
          token.failure ??= e
          throw e
        }
      },
    }

    let value: T
    try {
      value = await fn(tx)
    } catch (err) {
      await this.abort(token, new KafkatuneError('TRANSACTION_ABORTED', 'Transaction aborted: its callback threw', { cause: err, retriable: false }))
      throw err
    }
    await host.flush()
    token.open = false
    if (token.failure !== null) {
      const failure = token.failure
      await this.abort(token, failure)
      if (failure.code === 'FENCED') throw failure
      throw new KafkatuneError('TRANSACTION_ABORTED', `Transaction aborted: a record of it failed: ${failure.message}`, { cause: failure, retriable: failure.retriable })
    }
    try {
      await host.engine.commit()
    } catch (err) {
      const e = this.noteFencing(err)
      this.current = null
      if (e.code !== 'FENCED') await host.reset(`commit failed: ${e.message}`).catch(() => undefined)
      throw e
    }
    this.current = null
    return value
  }

  private async abort(token: TransactionToken, reason: KafkatuneError): Promise<void> {
    token.open = false
    await this.host.discard(reason)
    this.current = null
    if (this.host.fenced() !== null) return
    try {
      await this.host.engine.abort()
    } catch (err) {
      const e = this.noteFencing(err)
      if (e.code !== 'FENCED') await this.host.reset(`abort failed: ${e.message}`).catch(() => undefined)
      return
    }
    // A produce failure may have left sequence numbers out of step: start the next transaction afresh.
    if (token.failure !== null && token.failure.code !== 'RECORD_TOO_LARGE' && token.failure.code !== 'SERIALIZATION') {
      await this.host.reset(`transaction failed: ${token.failure.message}`).catch(() => undefined)
    }
  }

  private noteFencing(err: unknown): KafkatuneError {
    const e = err instanceof KafkatuneError ? err : this.host.engine.transactionError(err, 'Transaction failed')
    if (e.code === 'FENCED') this.host.markFenced(e)
    return e
  }
}
