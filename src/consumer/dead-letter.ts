/**
 * Dead letters: the record a consumer or pipeline gives up on goes to the dead-letter topic with its
 * original bytes and headers plus where and why it failed (`deadLetterRecord`); the consumer writes it
 * with a kafkatune producer (`DeadLetterWriter`), a pipeline inside the transaction of the input offset.
 */
import type { IHeaders } from 'kafkajs'
import { resolveProducerConfig } from '../config/index.js'
import type { ConsumerSettings } from '../config/index.js'
import { KafkatuneError } from '../errors.js'
import { createProducerFromSettings } from '../producer/producer.js'
import type { Producer, ProducerHeaders, ProducerMetrics } from '../producer/types.js'
import { bytes } from '../serde/bytes.js'
import { setOwn } from '../util/own.js'

/** Header names a dead-lettered record carries, next to its original headers. */
export const DLQ_HEADERS = {
  topic: 'kafkatune.dlq.original.topic',
  partition: 'kafkatune.dlq.original.partition',
  offset: 'kafkatune.dlq.original.offset',
  timestamp: 'kafkatune.dlq.original.timestamp',
  errorName: 'kafkatune.dlq.error.name',
  errorCode: 'kafkatune.dlq.error.code',
  errorMessage: 'kafkatune.dlq.error.message',
  group: 'kafkatune.dlq.consumer.group',
  attempts: 'kafkatune.dlq.attempts',
} as const

/** The raw record as fetched, before deserialization. */
export interface RawRecord {
  topic: string
  partition: number
  offset: string
  timestamp: string
  key: Buffer | null
  value: Buffer | null
  headers: IHeaders
}

/** A dead-letter record, ready for a bytes producer. */
export interface DeadLetterRecord {
  key: Buffer | null
  value: Buffer | null
  /** The original headers (a repeated name keeps every value, in order) and the `DLQ_HEADERS`. */
  headers: ProducerHeaders
}

/** What to produce to the dead-letter topic for a record that failed: original bytes, original headers plus where and why. */
export function deadLetterRecord(raw: RawRecord, error: unknown, groupId: string, attempts: number): DeadLetterRecord {
  const err = error instanceof Error ? error : new Error(String(error))
  // The failure name of interest is the user's error, not our wrapper.
  const root = err instanceof KafkatuneError && err.code === 'HANDLER_FAILED' && err.cause instanceof Error ? err.cause : err
  const headers: ProducerHeaders = {}
  for (const name in raw.headers) {
    const v = raw.headers[name]
    if (v !== undefined) setOwn(headers, name, v)
  }
  headers[DLQ_HEADERS.topic] = raw.topic
  headers[DLQ_HEADERS.partition] = String(raw.partition)
  headers[DLQ_HEADERS.offset] = raw.offset
  headers[DLQ_HEADERS.timestamp] = raw.timestamp
  headers[DLQ_HEADERS.errorName] = root.name
  if (err instanceof KafkatuneError) headers[DLQ_HEADERS.errorCode] = err.code
  headers[DLQ_HEADERS.errorMessage] = root.message
  headers[DLQ_HEADERS.group] = groupId
  headers[DLQ_HEADERS.attempts] = String(attempts)
  return { key: raw.key, value: raw.value, headers }
}

/**
 * The consumer's dead-letter producer: a kafkatune producer of bytes (idempotent, acks all, no linger: the
 * loop waits for each write) on the consumer's connection settings, so codecs, metrics and retries are the
 * producer's own.
 */
export class DeadLetterWriter {
  readonly #producer: Producer<Buffer, Buffer>

  constructor(
    private readonly settings: ConsumerSettings<unknown, unknown>,
    private readonly topic: string,
  ) {
    // The consumer's connection as resolved (security, logger, kafkajs escape hatch), the rest a DLQ's own tuning.
    const { brokers, clientId, ssl, sasl, logger, kafkajs } = settings
    const tuning = resolveProducerConfig<Buffer, Buffer>({ brokers: [...brokers], acks: 'all', idempotent: true, lingerMs: 0, keySerializer: bytes(), valueSerializer: bytes() })
    this.#producer = createProducerFromSettings<Buffer, Buffer>({ ...tuning, brokers, clientId, ssl, sasl, logger, kafkajs })
  }

  connect(): Promise<void> {
    return this.#producer.connect()
  }

  /** Writes one dead-letter record per raw record; resolves once all are acknowledged. */
  async write(raws: readonly RawRecord[], error: unknown, attempts: number): Promise<void> {
    await Promise.all(
      raws.map((raw) => {
        const r = deadLetterRecord(raw, error, this.settings.groupId, attempts)
        return this.#producer.send({ topic: this.topic, key: r.key, value: r.value as Buffer, headers: r.headers })
      }),
    )
  }

  metrics(): ProducerMetrics {
    return this.#producer.metrics()
  }

  disconnect(): Promise<void> {
    return this.#producer.disconnect()
  }
}
