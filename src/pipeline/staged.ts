/**
 * Outputs waiting for their transaction, per input partition and input offset. Records of a partition are
 * transformed in order, so a transform of offset `o` voids whatever was staged at `o` or later (a retry, or
 * the same records read again after a rewind); a commit up to `next` takes the outputs of offsets below it.
 */
import { partitionKey } from '../consumer/offsets.js'
import type { Headers } from '../observability/tracing.js'
import type { StagedRecord } from './producer-pool.js'

interface Entry<K, V> {
  offset: bigint
  records: StagedRecord<K, V>[]
  /** The input record's headers, kept only while tracing (its transaction span links to their context). */
  input: Headers | undefined
}

export class StagedOutputs<K, V> {
  readonly #byPartition = new Map<string, Entry<K, V>[]>()

  /** The outputs of input record `offset` (replacing anything staged at `offset` or later). */
  stage(topic: string, partition: number, offset: string, records: StagedRecord<K, V>[], input?: Headers): void {
    const key = partitionKey(topic, partition)
    const at = BigInt(offset)
    let list = this.#byPartition.get(key)
    if (list === undefined) this.#byPartition.set(key, (list = []))
    while (list.length > 0 && (list[list.length - 1] as Entry<K, V>).offset >= at) list.pop()
    list.push({ offset: at, records, input })
  }

  /** The outputs of input offsets below `next`, in input order, how many input records they stand for, and the inputs' kept headers. */
  upTo(topic: string, partition: number, next: string): { records: StagedRecord<K, V>[]; inputs: number; inputHeaders: Headers[] } {
    const limit = BigInt(next)
    const records: StagedRecord<K, V>[] = []
    const inputHeaders: Headers[] = []
    let inputs = 0
    for (const e of this.#byPartition.get(partitionKey(topic, partition)) ?? []) {
      if (e.offset >= limit) break
      inputs++
      for (const r of e.records) records.push(r)
      if (e.input !== undefined) inputHeaders.push(e.input)
    }
    return { records, inputs, inputHeaders }
  }

  /** The outputs below `next` were committed. */
  committed(topic: string, partition: number, next: string): void {
    const key = partitionKey(topic, partition)
    const list = this.#byPartition.get(key)
    if (list === undefined) return
    const limit = BigInt(next)
    const rest = list.filter((e) => e.offset >= limit)
    if (rest.length === 0) this.#byPartition.delete(key)
    else this.#byPartition.set(key, rest)
  }

  /** The first input offset with staged outputs, if any. */
  first(topic: string, partition: number): string | undefined {
    return this.#byPartition.get(partitionKey(topic, partition))?.[0]?.offset.toString()
  }

  /** Partitions with staged outputs and their first input offset. */
  partitions(): { topic: string; partition: number; first: string }[] {
    const out: { topic: string; partition: number; first: string }[] = []
    for (const [key, list] of this.#byPartition) {
      const e = list[0]
      if (e === undefined) continue
      const sep = key.indexOf(':')
      out.push({ topic: key.slice(sep + 1), partition: Number(key.slice(0, sep)), first: e.offset.toString() })
    }
    return out
  }

  forget(topic: string, partition: number): void {
    this.#byPartition.delete(partitionKey(topic, partition))
  }

  clear(): void {
    this.#byPartition.clear()
  }
}
