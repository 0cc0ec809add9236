/**
 * Where the group starts: checked before joining, because kafkajs has no `autoOffsetReset: 'none'` and
 * resets an out-of-range committed offset silently, and a missing topic should fail at once.
 */
import type { Admin, Kafka } from 'kafkajs'
import { kafkaError } from '../kafkajs/errors.js'
import { sleep } from '../util/async.js'
import { backoffMs } from '../util/backoff.js'
import type { Logger } from '../logging/types.js'
import type { ConsumerSettings } from '../config/index.js'
import { KafkatuneError } from '../errors.js'

/** The topic names `settings.topics` stands for now (patterns matched against the cluster's topics). */
export async function subscribedTopics(admin: Admin, topics: readonly (string | RegExp)[]): Promise<string[]> {
  const names = topics.filter((t): t is string => typeof t === 'string')
  const patterns = topics.filter((t): t is RegExp => t instanceof RegExp)
  if (patterns.length > 0) {
    const all = await admin.listTopics()
    for (const name of all) if (patterns.some((p) => p.test(name))) names.push(name)
  }
  return [...new Set(names)]
}

/**
 * Throws `UNKNOWN_TOPIC` for a named topic that does not exist, `NO_COMMITTED_OFFSET` / `OFFSET_OUT_OF_RANGE`
 * under `autoOffsetReset: 'none'`, and logs where an out-of-range offset will restart otherwise.
 */
export async function checkStartPositions(admin: Admin, settings: ConsumerSettings<unknown, unknown>, log: Logger): Promise<void> {
  const topics = await subscribedTopics(admin, settings.topics)
  if (topics.length === 0) return
  const existing = new Set(await admin.listTopics())
  const missing = topics.filter((t) => !existing.has(t))
  if (missing.length > 0) {
    throw new KafkatuneError(
      'UNKNOWN_TOPIC',
      `Topic(s) ${missing.join(', ')} do not exist; create them first (createAdmin().ensureTopic) or check the names in \`topics\``,
      { retriable: false, details: { topics: missing, groupId: settings.groupId } },
    )
  }
  const committed = await admin.fetchOffsets({ groupId: settings.groupId, topics })
  for (const { topic, partitions } of committed) {
    const without = partitions.filter((p) => p.offset === '-1').map((p) => p.partition)
    if (without.length > 0 && settings.autoOffsetReset === 'none') {
      throw new KafkatuneError(
        'NO_COMMITTED_OFFSET',
        `Group ${settings.groupId} has no committed offset for ${topic} partition(s) ${without.join(', ')} and autoOffsetReset is 'none'; set autoOffsetReset to 'earliest' or 'latest', or commit offsets first`,
        { retriable: false, details: { topic, partitions: without, groupId: settings.groupId } },
      )
    }
    const present = partitions.filter((p) => p.offset !== '-1')
    if (present.length === 0) continue
    const bounds = await admin.fetchTopicOffsets(topic)
    for (const p of present) {
      const b = bounds.find((x) => x.partition === p.partition)
      if (b === undefined) continue
      const off = BigInt(p.offset)
      if (off >= BigInt(b.low) && off <= BigInt(b.high)) continue
      if (settings.autoOffsetReset === 'none') {
        throw new KafkatuneError(
          'OFFSET_OUT_OF_RANGE',
          `Committed offset ${p.offset} of ${topic}[${p.partition}] is outside [${b.low}, ${b.high}] and autoOffsetReset is 'none'`,
          { retriable: false, details: { topic, partition: p.partition, offset: p.offset, low: b.low, high: b.high } },
        )
      }
      log.warn({ topic, partition: p.partition, offset: p.offset, low: b.low, high: b.high }, `committed offset out of range: starting from ${settings.autoOffsetReset}`)
    }
  }
}

/**
 * `checkStartPositions` through a short-lived admin client, retrying what Kafka calls retriable (the
 * coordinator may still be loading, or `__consumer_offsets` being created).
 */
export async function ensureStartPositions(kafka: Kafka, settings: ConsumerSettings<unknown, unknown>, log: Logger): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const admin = kafka.admin()
    try {
      await admin.connect()
      await checkStartPositions(admin, settings, log)
      return
    } catch (err) {
      if (err instanceof KafkatuneError) throw err
      if ((err as { retriable?: unknown }).retriable === true && attempt < 20) {
        await sleep(backoffMs(attempt, { baseMs: 100, maxMs: 1000 }))
        continue
      }
      throw kafkaError(err, `Cannot read committed offsets of group ${settings.groupId}`)
    } finally {
      await admin.disconnect().catch(() => undefined)
    }
  }
}
