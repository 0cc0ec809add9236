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
