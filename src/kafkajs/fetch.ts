/**
 * kafkatune's Fetch requests on kafkajs's connections: the raw record batches of each partition, for
 * kafkatune's own decoder (`src/protocol`). kafkajs's consumer is untouched.
 */
import type { FetchPartitionResponse, FetchRequest } from '../protocol/fetch.js'
import { FETCH_API_KEY, FETCH_VERSION, decodeFetchResponse, encodeFetchRequest } from '../protocol/fetch.js'
import type { KafkajsBroker, KafkajsRequest, KafkajsResponse } from './internals.js'
import { sendThroughBroker } from './internals.js'

interface Decoded {
  partitions: FetchPartitionResponse[]
  clientSideThrottleTime: number
}

const response: KafkajsResponse<Decoded, Decoded> = {
  decode: (payload) => {
    const r = decodeFetchResponse(payload)
    return Promise.resolve({ partitions: r.partitions, clientSideThrottleTime: r.throttleTimeMs })
  },
  parse: (decoded) => Promise.resolve(decoded),
}

/** Sends one Fetch v4 request to `broker`; resolves every partition's answer with its raw records. */
export async function sendFetch(broker: KafkajsBroker, req: FetchRequest): Promise<FetchPartitionResponse[]> {
  const body = encodeFetchRequest(req)
  const encoded = { buf: body, buffer: body }
  const request: KafkajsRequest = { apiKey: FETCH_API_KEY, apiVersion: FETCH_VERSION, apiName: 'Fetch', encode: () => Promise.resolve(encoded) }
  const decoded = await sendThroughBroker(broker, request, response as KafkajsResponse<unknown, Decoded>)
  return decoded?.partitions ?? []
}
