/**
 * kafkatune's record decoder under kafkajs's consumer, for clients kafkatune built: kafkajs sends its
 * Fetch v11 request as always, and the response's record batches are decoded by `src/protocol` (CRC
 * checked, one decompression per batch, keys and values as views into the batch) into exactly the message
 * objects kafkajs's own decoder builds. Only brokers of clusters created by that one `Kafka` instance are
 * touched; kafkajs's modules and any other client in the process are not.
 */
import { createRequire } from 'node:module'
import type { Kafka } from 'kafkajs'
import { recordsCodecs } from '../codecs/index.js'
import { decodeRecordsOfBatches } from '../protocol/record-batch-decode.js'
import type { RecordMaker } from '../protocol/record-batch-decode.js'
import type { RecordBatchHeader } from '../protocol/types.js'
import { setOwn } from '../util/own.js'
import { installFetchPrefetch } from './fetch-prefetch.js'

const requireFromHere = createRequire(import.meta.url)
const FETCH_API_KEY = 1
const MAGIC_OFFSET = 16
const INSTALLED = Symbol.for('kafkatune.fetchDecoder')

/** A message as kafkajs's record decoder returns it (`recordBatch/record/v0/decoder.js`). */
export interface KafkajsRecord {
  magicByte: number
  attributes: number
  timestamp: string
  offset: string
  key: Buffer | null
  value: Buffer | null
  headers: Record<string, Buffer | null | (Buffer | null)[]>
  isControlRecord: boolean
  batchContext: Record<string, unknown>
}

/** A tiny reader for the non-record parts of the response. */
class Reader {
  pos = 0
  constructor(readonly buf: Buffer) {}
  int16(): number {
    const v = this.buf.readInt16BE(this.pos)
    this.pos += 2
    return v
  }
  int32(): number {
    const v = this.buf.readInt32BE(this.pos)
    this.pos += 4
    return v
  }
  int64(): string {
    const v = this.buf.readBigInt64BE(this.pos).toString()
    this.pos += 8
    return v
  }
  string(): string {
    const len = this.int16()
    const s = this.buf.toString('utf8', this.pos, this.pos + len)
    this.pos += len
    return s
  }
}

type BatchContext = Record<string, unknown>

/** kafkajs's `batchContext` of a batch (one object per batch, shared by its messages). */
function batchContextOf(h: RecordBatchHeader): BatchContext {
  return {
    firstOffset: h.baseOffset.toString(),
    firstTimestamp: String(h.baseTimestamp),
    partitionLeaderEpoch: h.partitionLeaderEpoch,
    inTransaction: h.transactional,
    isControlBatch: h.control,
    lastOffsetDelta: h.lastOffsetDelta,
    producerId: h.producerId.toString(),
    producerEpoch: h.producerEpoch,
    firstSequence: h.baseSequence,
    maxTimestamp: String(h.maxTimestamp),
    timestampType: h.timestampType === 'log-append' ? 1 : 0,
    magicByte: 2,
  }
}

/**
 * A maker of kafkajs's message objects (same fields, same string offsets and timestamps as its own decoder),
 * straight from the decoded fields. It remembers the batch it is in, so the batch context is made once per batch.
 */
/**
 * The headers of every record without any: one frozen object, read by kafkatune's consumers and pipeline only
 * (each `ConsumedMessage` gets headers of its own).
 */
const NO_HEADERS: KafkajsRecord['headers'] = Object.freeze({})

export function kafkajsMessageMaker(): RecordMaker<KafkajsRecord> {
  let batch: RecordBatchHeader | null = null
  let context: BatchContext = {}
  let base = 0
  let safe = true
  // Records of a batch mostly share their timestamp (the millisecond they were sent in): one string for a run of them.
  let lastTimestamp = Number.NaN
  let timestampText = ''
  return (h, offsetDelta, timestamp, key, value, list) => {
    if (h !== batch) {
      batch = h
      context = batchContextOf(h)
      base = Number(h.baseOffset)
      safe = Number.isSafeInteger(base + h.lastOffsetDelta)
    }
    let headers: KafkajsRecord['headers'] = NO_HEADERS
    if (list.length > 0) {
      headers = {}
      for (const x of list) {
        const prev = Object.prototype.hasOwnProperty.call(headers, x.key) ? headers[x.key] : undefined
        setOwn(headers, x.key, prev === undefined ? x.value : Array.isArray(prev) ? prev.concat([x.value]) : [prev, x.value])
      }
    }
    if (timestamp !== lastTimestamp) {
      lastTimestamp = timestamp
      timestampText = String(timestamp)
    }
    return {
      magicByte: 2,
      attributes: 0,
      timestamp: timestampText,
      offset: safe ? String(base + offsetDelta) : (h.baseOffset + BigInt(offsetDelta)).toString(),
      key,
      value,
      headers,
      isControlRecord: h.control,
      batchContext: context,
    }
  }
}

let legacyMessageSet: ((decoder: unknown, size: number) => Promise<unknown[]>) | null = null
let KjsDecoder: (new (b: Buffer) => unknown) | null = null

async function decodeMessages(r: Reader): Promise<unknown[]> {
  const size = r.int32()
  if (size <= 0 || r.pos + size > r.buf.length) {
    if (size > 0) r.pos = r.buf.length
    return []
  }
  const records = r.buf.subarray(r.pos, r.pos + size)
  r.pos += size
  if (records.length > MAGIC_OFFSET && records.readInt8(MAGIC_OFFSET) !== 2) {
    // Message sets of the old formats (v0/v1): kafkajs's own decoder, as before.
    legacyMessageSet ??= requireFromHere('kafkajs/src/protocol/messageSet/decoder.js') as typeof legacyMessageSet
    KjsDecoder ??= requireFromHere('kafkajs/src/protocol/decoder.js') as typeof KjsDecoder
    return await legacyMessageSet!(new KjsDecoder!(records), size)
  }
  const decoded = await decodeRecordsOfBatches(records, { codecs: recordsCodecs }, kafkajsMessageMaker())
  fetchDecoderStats.batches += decoded.batches
  return decoded.records
}

/** Fetch responses and record batches decoded by kafkatune's decoder in this process (for metrics and tests). */
export const fetchDecoderStats = { responses: 0, batches: 0 }

/** Told each partition of each decoded Fetch response: its high watermark and the bytes of its records. */
export type FetchedPartitionObserver = (topic: string, partition: number, highWatermark: number, recordBytes: number) => void

const OBSERVERS = Symbol.for('kafkatune.fetchObservers')

function observersOf(kafka: Kafka): Set<FetchedPartitionObserver> {
  const target = kafka as unknown as { [OBSERVERS]?: Set<FetchedPartitionObserver> }
  return (target[OBSERVERS] ??= new Set())
}

/**
 * Calls `observer` for every partition of every Fetch response the consumers of `kafka` decode (the
 * high watermark of partitions without new records too), until the returned function is called.
 */
export function observeFetchedPartitions(kafka: Kafka, observer: FetchedPartitionObserver): () => void {
  const set = observersOf(kafka)
  set.add(observer)
  return () => {
    set.delete(observer)
  }
}

/** Told each decoded Fetch response as a whole: the record bytes of all its partitions and its throttle_time_ms. */
export type FetchResponseObserver = (recordBytes: number, throttleTimeMs: number) => void

const RESPONSE_OBSERVERS = Symbol.for('kafkatune.fetchResponseObservers')

function responseObserversOf(kafka: Kafka): Set<FetchResponseObserver> {
  const target = kafka as unknown as { [RESPONSE_OBSERVERS]?: Set<FetchResponseObserver> }
  return (target[RESPONSE_OBSERVERS] ??= new Set())
}

/** Calls `observer` once per Fetch response the consumers of `kafka` decode, until the returned function is called. */
export function observeFetchResponses(kafka: Kafka, observer: FetchResponseObserver): () => void {
  const set = responseObserversOf(kafka)
  set.add(observer)
  return () => {
    set.delete(observer)
  }
}

const NO_OBSERVERS: ReadonlySet<FetchedPartitionObserver> = new Set()
const NO_RESPONSE_OBSERVERS: ReadonlySet<FetchResponseObserver> = new Set()

/** Decodes a Fetch v11 response body into kafkajs's decoded shape (see kafkajs `fetch/v11/response.js`). */
export async function decodeFetchV11(
  raw: Buffer,
  observers: ReadonlySet<FetchedPartitionObserver> = NO_OBSERVERS,
  responseObservers: ReadonlySet<FetchResponseObserver> = NO_RESPONSE_OBSERVERS,
): Promise<Record<string, unknown>> {
  const r = new Reader(raw)
  fetchDecoderStats.responses++
  const clientSideThrottleTime = r.int32()
  const errorCode = r.int16()
  const sessionId = r.int32()
  const responses = []
  let responseBytes = 0
  for (let t = r.int32(); t > 0; t--) {
    const topicName = r.string()
    const partitions = []
    for (let p = r.int32(); p > 0; p--) {
      const partition = r.int32()
      const partitionErrorCode = r.int16()
      const highWatermark = r.int64()
      const lastStableOffset = r.int64()
      const lastStartOffset = r.int64()
      const abortedTransactions = []
      for (let a = r.int32(); a > 0; a--) abortedTransactions.push({ producerId: r.int64(), firstOffset: r.int64() })
      const preferredReadReplica = r.int32()
      const before = r.pos
      const messages = await decodeMessages(r)
      const bytes = Math.max(0, r.pos - before - 4)
      responseBytes += bytes
      if (observers.size > 0 && partitionErrorCode === 0) {
        const hw = Number(highWatermark)
        for (const o of observers) o(topicName, partition, hw, bytes)
      }
      // A partition with nothing to say is left out: kafkajs would build a Batch for it, queue it to a worker and
      // heartbeat-check it, only to skip it (5 of 6 partitions of most low-latency fetches). Errors, records
      // (control and aborted ones too) and read-replica moves are kept; the observers above saw the watermark.
      if (partitionErrorCode === 0 && messages.length === 0 && preferredReadReplica === -1) continue
      partitions.push({ partition, errorCode: partitionErrorCode, highWatermark, lastStableOffset, lastStartOffset, abortedTransactions, preferredReadReplica, messages })
    }
    responses.push({ topicName, partitions })
  }
  for (const o of responseObservers) o(responseBytes, clientSideThrottleTime)
  return { throttleTime: 0, clientSideThrottleTime, errorCode, sessionId, responses }
}

type Protocol = (args: unknown) => { request: { apiVersion: number }; response: { decode: (raw: Buffer) => Promise<unknown>; parse: unknown } }
interface PatchableBroker {
  connect(): Promise<void>
  lookupRequest: (apiKey: number, definition: unknown) => Protocol
}

function patchBroker(broker: PatchableBroker, observers: ReadonlySet<FetchedPartitionObserver>, responseObservers: ReadonlySet<FetchResponseObserver>): void {
  const decode = (raw: Buffer) => decodeFetchV11(raw, observers, responseObservers)
  const connect = broker.connect.bind(broker)
  broker.connect = async () => {
    await connect()
    const lookup = broker.lookupRequest as PatchableBroker['lookupRequest'] & { [INSTALLED]?: true }
    if (lookup[INSTALLED] === true) return
    const patched = ((apiKey: number, definition: unknown) => {
      const protocol = lookup(apiKey, definition)
      if (apiKey !== FETCH_API_KEY) return protocol
      return (args: unknown) => {
        const built = protocol(args)
        return built.request.apiVersion === 11 ? { ...built, response: { ...built.response, decode } } : built
      }
    }) as PatchableBroker['lookupRequest'] & { [INSTALLED]?: true }
    patched[INSTALLED] = true
    broker.lookupRequest = patched
  }
}

/**
 * Makes every cluster `kafka` creates from now on decode fetched records with kafkatune's decoder.
 * Returns false (nothing changed) when the kafkajs layout is not the one this was written for.
 */
export function useKafkatuneFetchDecoder(kafka: Kafka): boolean {
  const target = kafka as unknown as Record<symbol, unknown>
  const key = Object.getOwnPropertySymbols(kafka).find((s) => s.description === 'private:Kafka:createCluster')
  if (key === undefined || typeof target[key] !== 'function' || target[INSTALLED] === true) return target[INSTALLED] === true
  const observers = observersOf(kafka)
  const responseObservers = responseObserversOf(kafka)
  const create = target[key] as (options: unknown) => { brokerPool?: { createBroker?: (o: unknown) => PatchableBroker } }
  target[key] = (options: unknown) => {
    const cluster = create(options)
    const pool = cluster.brokerPool
    if (pool !== undefined && typeof pool.createBroker === 'function') {
      const createBroker = pool.createBroker
      pool.createBroker = (o: unknown) => {
        const broker = createBroker(o)
        if (typeof broker.connect === 'function') patchBroker(broker, observers, responseObservers)
        installFetchPrefetch(broker as unknown as Parameters<typeof installFetchPrefetch>[0])
        return broker
      }
    }
    return cluster
  }
  target[INSTALLED] = true
  return true
}
