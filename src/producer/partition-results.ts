/**
 * Per-partition answers of a failed produce request. kafkajs 2.2.4 throws the first partition error of a
 * produce response and drops the rest, including the offsets of the partitions the broker accepted, so a
 * producer without idempotence could only resend everything (writing the accepted batches twice). This
 * hook keeps the decoded answers on the thrown error; it changes nothing else kafkajs does.
 */
import { createRequire } from 'node:module'

/** The broker's answer for one partition of a produce request. */
export interface PartitionResult {
  topic: string
  partition: number
  errorCode: number
  baseOffset: string
  logAppendTime: string
  /** kafkajs' error for a non-zero `errorCode`, else null. */
  error: Error | null
}

const RESULTS = Symbol.for('kafkatune.producePartitionResults')
const requireFromHere = createRequire(import.meta.url)
let installed: boolean | null = null

interface DecodedProduceResponse {
  topics?: { topicName: string; partitions: { partition: number; errorCode: number; baseOffset?: unknown; logAppendTime?: unknown }[] }[]
}
type Parse = ((data: DecodedProduceResponse) => Promise<unknown>) & { [RESULTS]?: true }

/**
 * Wraps the produce response parsers of kafkajs (request versions 3-7, what Kafka 4.x speaks) once per
 * process; returns false when the kafkajs layout is not the one it was written for (nothing is changed then).
 */
export function installPartitionResultsHook(): boolean {
  if (installed !== null) return installed
  installed = false
  let errorFromCode: (code: number) => Error
  const modules: { parse: Parse }[] = []
  try {
    errorFromCode = (requireFromHere('kafkajs/src/protocol/error.js') as { createErrorFromCode: (code: number) => Error }).createErrorFromCode
    for (let v = 3; v <= 7; v++) modules.push(requireFromHere(`kafkajs/src/protocol/requests/produce/v${v}/response.js`) as { parse: Parse })
  } catch {
    return false
  }
  if (typeof errorFromCode !== 'function' || modules.some((m) => typeof m.parse !== 'function')) return false
  for (const mod of modules) {
    const original = mod.parse
    if (original[RESULTS] === true) continue
    const parse: Parse = async (data) => {
      try {
        return await original(data)
      } catch (err) {
        if (err !== null && typeof err === 'object' && Array.isArray(data?.topics)) {
          const results: PartitionResult[] = data.topics.flatMap((t) =>
            t.partitions.map((p) => ({
              topic: t.topicName,
              partition: p.partition,
              errorCode: p.errorCode,
              baseOffset: String(p.baseOffset ?? '-1'),
              logAppendTime: String(p.logAppendTime ?? '-1'),
              error: p.errorCode === 0 ? null : errorFromCode(p.errorCode),
            })),
          )
          Object.defineProperty(err, RESULTS, { value: results, enumerable: false })
        }
        throw err
      }
    }
    parse[RESULTS] = true
    mod.parse = parse
  }
  installed = true
  return true
}

/** The per-partition answers a failed produce request carried (searched along `cause`/`originalError`), or null. */
export function partitionResultsOf(err: unknown): PartitionResult[] | null {
  let e: unknown = err
  for (let depth = 0; depth < 8 && e !== null && typeof e === 'object'; depth++) {
    const found = (e as { [RESULTS]?: PartitionResult[] })[RESULTS]
    if (Array.isArray(found)) return found
    const x = e as { cause?: unknown; originalError?: unknown }
    const next = x.cause ?? x.originalError
    if (next === undefined || next === e) break
    e = next
  }
  return null
}
