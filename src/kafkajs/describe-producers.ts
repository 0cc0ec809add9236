/** kafkatune's DescribeProducers requests on kafkajs's connections (kafkajs 2.2.4 has no such API). */
import type { DescribeProducersPartition } from '../protocol/describe-producers.js'
import { DESCRIBE_PRODUCERS_API_KEY, DESCRIBE_PRODUCERS_VERSION, decodeDescribeProducersResponse, encodeDescribeProducersRequest } from '../protocol/describe-producers.js'
import type { KafkajsBroker, KafkajsRequest, KafkajsResponse } from './internals.js'
import { sendThroughBroker } from './internals.js'

interface Decoded {
  partitions: DescribeProducersPartition[]
  clientSideThrottleTime: number
}

const response: KafkajsResponse<Decoded, Decoded> = {
  decode: (payload) => {
    const r = decodeDescribeProducersResponse(payload)
    return Promise.resolve({ partitions: r.partitions, clientSideThrottleTime: r.throttleTimeMs })
  },
  parse: (decoded) => Promise.resolve(decoded),
}

/** Asks `broker` (the partitions' leader) which producers it holds state for, and their last sequences. */
export async function sendDescribeProducers(broker: KafkajsBroker, topics: readonly { topic: string; partitions: readonly number[] }[]): Promise<DescribeProducersPartition[]> {
  const body = encodeDescribeProducersRequest(topics)
  const encoded = { buf: body, buffer: body }
  const request: KafkajsRequest = { apiKey: DESCRIBE_PRODUCERS_API_KEY, apiVersion: DESCRIBE_PRODUCERS_VERSION, apiName: 'DescribeProducers', encode: () => Promise.resolve(encoded) }
  const decoded = await sendThroughBroker(broker, request, response as KafkajsResponse<unknown, Decoded>)
  return decoded?.partitions ?? []
}
