/** A record handed to `producer.send()`. */
export interface ProducerRecord<K, V> {
  topic: string
  key?: K | null
  value: V
  headers?: Record<string, string | Buffer>
  partition?: number
  /** Milliseconds since the epoch, as a string or number. */
  timestamp?: string | number
}

/** Where a record was written. */
export interface RecordMetadata {
  topic: string
  partition: number
  offset: string
  timestamp: string
}

/** A record as handlers see it: deserialized key and value. */
export interface ConsumedMessage<K, V> {
  topic: string
  partition: number
  offset: string
  key: K | null
  value: V | null
  headers: Record<string, Buffer | undefined>
  timestamp: string
}
