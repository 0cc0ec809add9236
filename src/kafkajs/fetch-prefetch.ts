/**
 * Fetch pipelining for kafkatune's consumers, as the Java consumer does it: while the records of one Fetch
 * response are handled, the next Fetch to the same broker is already on the wire. kafkajs's fetcher asks a
 * broker for more only after the previous response was handled, so on a backlog the broker idles while the
 * handler runs, and the handler idles while the broker reads and sends the next response.
 *
 * The next request is predicted from the one just answered: the same options and partitions, each partition
 * from just past the last record it returned. When kafkajs then asks for exactly that request (the handler
 * went through every record, nothing was paused, sought or reassigned), it gets the response already under
 * way; any other request discards the prediction and goes out as asked. A used prediction is therefore the
 * same request sent earlier: the records it returns are the ones the late request would have returned.
 *
 * A prediction is sent only when the response said there is at least as much left to read as it carried, so a
 * consumer that has caught up never leaves a long-polling Fetch ahead of its next real one on the connection
 * (a broker answers one request per connection at a time).
 */

/** One partition of a kafkajs `Broker.fetch` request. */
export interface FetchPartitionArgs {
  partition: number
  fetchOffset: string
  maxBytes: number
}

/** The arguments kafkajs's consumer passes to `Broker.fetch`. */
export interface FetchArgs {
  replicaId?: number
  isolationLevel?: number
  maxWaitTime?: number
  minBytes?: number
  maxBytes?: number
  rackId?: string
  topics: { topic: string; partitions: FetchPartitionArgs[] }[]
}

/** The parts of a parsed Fetch response this needs (kafkajs's shape, as `fetch-decoder.ts` builds it). */
export interface FetchResult {
  responses: { topicName: string; partitions: { partition: number; errorCode: number; highWatermark: string; lastStableOffset: string; messages: { offset: string }[] }[] }[]
}

type Fetch = (args: FetchArgs) => Promise<FetchResult>

const READ_COMMITTED = 1
const SEP = '\u0000'

/** Equal for two requests that ask the broker for the same thing (partition order aside). */
export function fetchKey(args: FetchArgs): string {
  const parts: string[] = []
  for (const t of args.topics) for (const p of t.partitions) parts.push(`${t.topic}${SEP}${p.partition}${SEP}${p.fetchOffset}${SEP}${p.maxBytes}`)
  parts.sort()
  const options = [args.replicaId, args.isolationLevel, args.maxWaitTime, args.minBytes, args.maxBytes, args.rackId].map((v) => String(v)).join(SEP)
  return `${options}${SEP}${SEP}${parts.join(SEP)}`
}

/**
 * The request kafkajs will send next if every record of `result` is handled, or null when none is worth
 * sending early: a partition answered with an error, `result` carried no record, or less is left to read than
 * it carried.
 */
export function predictNextFetch(args: FetchArgs, result: FetchResult): FetchArgs | null {
  const answered = new Map<string, FetchResult['responses'][number]['partitions'][number]>()
  for (const t of result.responses) for (const p of t.partitions) answered.set(`${t.topicName}${SEP}${p.partition}`, p)
  let received = 0n
  let left = 0n
  let failed = false
  const topics = args.topics.map(({ topic, partitions }) => ({
    topic,
    partitions: partitions.map((req) => {
      const p = answered.get(`${topic}${SEP}${req.partition}`)
      if (p === undefined) return req
      if (p.errorCode !== 0) {
        failed = true
        return req
      }
      const from = BigInt(req.fetchOffset)
      // Records come in offset order; only a compressed batch's start may lie before the fetch offset.
      const messages = p.messages
      const lastMessage = messages[messages.length - 1]
      const last = lastMessage === undefined ? -1n : BigInt(lastMessage.offset)
      let within = 0n
      if (last >= from) {
        let first = 0
        while (BigInt(messages[first]!.offset) < from) first++
        within = BigInt(messages.length - first)
      }
      const next = within > 0n ? last + 1n : from
      const end = BigInt(args.isolationLevel === READ_COMMITTED && BigInt(p.lastStableOffset) >= 0n ? p.lastStableOffset : p.highWatermark)
      received += within
      if (end > next) left += end - next
      return next === from ? req : { ...req, fetchOffset: next.toString() }
    }),
  }))
  if (failed || received === 0n || left < received) return null
  return { ...args, topics }
}

/** A response kafkajs parsed is well formed; anything else (a shape this was not written for) predicts nothing. */
function safePredict(args: FetchArgs, result: FetchResult): FetchArgs | null {
  try {
    return predictNextFetch(args, result)
  } catch {
    return null
  }
}

const INSTALLED = Symbol.for('kafkatune.fetchPrefetch')

/** Counters of one process's prefetching (for tests and the bench). */
export const prefetchStats = { sent: 0, used: 0, discarded: 0 }

/** Makes `broker.fetch` pipeline: see the module comment. Idempotent per broker. */
export function installFetchPrefetch(broker: { fetch: Fetch; [INSTALLED]?: true }): void {
  if (broker[INSTALLED] === true || typeof broker.fetch !== 'function') return
  const fetch = broker.fetch.bind(broker)
  let ahead: { key: string; result: Promise<FetchResult | null> } | null = null
  const sendAhead = (args: FetchArgs, result: FetchResult): void => {
    const next = safePredict(args, result)
    if (next === null) return
    prefetchStats.sent++
    // A prediction that fails is not an error of anybody's: the real request, sent when it is asked for, reports it.
    ahead = { key: fetchKey(next), result: fetch(next).catch(() => null) }
  }
  // A used prediction's response starts the next prediction when kafkajs takes it, not when it arrives: at
  // most one request is ahead of the consumer, and at most two responses are held.
  broker.fetch = async (args: FetchArgs): Promise<FetchResult> => {
    const taken = ahead
    ahead = null
    if (taken !== null) {
      if (taken.key === fetchKey(args)) {
        const result = await taken.result
        if (result !== null) {
          prefetchStats.used++
          sendAhead(args, result)
          return result
        }
      } else prefetchStats.discarded++
    }
    const result = await fetch(args)
    sendAhead(args, result)
    return result
  }
  broker[INSTALLED] = true
}
