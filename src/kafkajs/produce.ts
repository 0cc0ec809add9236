/**
 * kafkatune's Produce requests on kafkajs's connections: the body comes from `src/protocol` (batches
 * encoded by kafkatune), kafkajs frames, authenticates, correlates and queues it. Every partition's
 * answer is returned, errors included (kafkajs's own parser throws the first error and drops the rest).
 */
import type { ProducePartitionResponse, ProduceRequest } from '../protocol/produce.js'
import { PRODUCE_API_KEY, PRODUCE_VERSION, decodeProduceResponse, encodeProduceRequestWithRoom } from '../protocol/produce.js'
import type { KafkajsBroker, KafkajsRequest, KafkajsResponse } from './internals.js'
import { kafkajsErrorFromCode, sendThroughBroker } from './internals.js'
import { framedBody, installRequestFraming, requestHeadroom } from './request-framing.js'
import { RequestBuffers } from '../protocol/request-buffers.js'

/** One partition's answer; `error` is kafkajs's protocol error for a non-zero code. */
export interface ProduceResult extends ProducePartitionResponse {
  error: Error | null
}

interface Decoded {
  partitions: ProducePartitionResponse[]
  throttleTimeMs: number
  /** kafkajs's connection throttles the next requests by this (KIP-219). */
  clientSideThrottleTime: number
}

const response: KafkajsResponse<Decoded, Decoded> = {
  decode: (payload) => {
    const r = decodeProduceResponse(payload)
    return Promise.resolve({ ...r, clientSideThrottleTime: r.throttleTimeMs })
  },
  parse: (decoded) => Promise.resolve(decoded),
}

/** Told the broker's throttle_time_ms of each Produce response (for `produce-throttle-time-avg/max`). */
export type ProduceThrottleObserver = (throttleTimeMs: number) => void

const THROTTLE_OBSERVERS = Symbol.for('kafkatune.produceThrottleObservers')

/** The throttle observers of the producers built on `kafka` (one set per kafkajs client). */
export function produceThrottleObservers(kafka: object): Set<ProduceThrottleObserver> {
  const target = kafka as { [THROTTLE_OBSERVERS]?: Set<ProduceThrottleObserver> }
  return (target[THROTTLE_OBSERVERS] ??= new Set())
}

/** Calls `observer` with the throttle_time_ms of every Produce response sent through `kafka`, until the returned function is called. */
export function observeProduceThrottle(kafka: object, observer: ProduceThrottleObserver): () => void {
  const set = produceThrottleObservers(kafka)
  set.add(observer)
  return () => {
    set.delete(observer)
  }
}

/** Request bodies reused across the process's producers (one event loop, so one pool). */
const bodies = new RequestBuffers()
const takeBody = (size: number): Buffer => bodies.take(size)

/**
 * Sends one Produce request to `broker`; resolves every partition's answer (none with acks 0). `throttled`
 * hears the response's throttle_time_ms.
 */
export async function sendProduce(broker: KafkajsBroker, req: ProduceRequest, throttled?: ReadonlySet<ProduceThrottleObserver>): Promise<ProduceResult[]> {
  installRequestFraming()
  // The body leaves room for the header this connection writes (its client id), so kafkajs's framing
  // adopts the buffer instead of copying it twice (request-framing.ts); any other room falls back to a copy.
  const clientId = broker.connectionPool.clientId
  const room = requestHeadroom(typeof clientId === 'string' ? clientId : null)
  const body = encodeProduceRequestWithRoom(req, room, takeBody)
  const encoded = framedBody(body, room)
  const request: KafkajsRequest = {
    apiKey: PRODUCE_API_KEY,
    apiVersion: PRODUCE_VERSION,
    apiName: 'Produce',
    expectResponse: () => req.acks !== 0,
    encode: () => Promise.resolve(encoded),
  }
  const decoded = await sendThroughBroker(broker, request, response as KafkajsResponse<unknown, Decoded>)
  if (decoded === undefined) return []
  // Answered and every partition written: nothing reads the body any more (request-buffers.ts). A batch the
  // broker refused is resent from its bytes inside this body (batch-encoding.ts), so that body is never reused.
  if (decoded.partitions.every((p) => p.errorCode === 0)) bodies.give(body)
  if (throttled !== undefined) for (const o of throttled) o(decoded.throttleTimeMs)
  return decoded.partitions.map((p) => ({ ...p, error: p.errorCode === 0 ? null : kafkajsErrorFromCode(p.errorCode) }))
}
