import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { Command, Option } from 'commander'
import { createAdmin, createConsumer, serializers } from '../index.js'
import type { ConsumedMessage, Serializer } from '../index.js'
import { connectionFrom, positiveInt, probeCluster, withConnectionFlags } from './connection.js'
import type { ConnectionFlags } from './connection.js'
import { EXIT, UsageError } from './exit.js'
import { createOutput } from './output.js'
import type { Output } from './output.js'
import { untilSignal } from './signals.js'

const PAST_MAX = new Error('--max reached')

/** How values are shown: as text, parsed JSON, hex, or decoded Avro (schemaless with a schema file, or registry framed). */
export type ValueFormat = { kind: 'string' | 'json' | 'bytes' } | { kind: 'avro' | 'registry'; serializer: Serializer<unknown> }

/** Parses `--value`: string, json, bytes, avro=<schema.avsc>, registry=<url>. */
export function parseValueFormat(raw: string): ValueFormat {
  if (raw === 'string' || raw === 'json' || raw === 'bytes') return { kind: raw }
  const eq = raw.indexOf('=')
  const kind = eq > 0 ? raw.slice(0, eq) : raw
  const arg = eq > 0 ? raw.slice(eq + 1) : ''
  if (kind === 'avro' && arg !== '') {
    let schema: unknown
    try {
      schema = JSON.parse(readFileSync(arg, 'utf8')) as unknown
    } catch (err) {
      throw new UsageError(`--value avro=${arg}: cannot read an Avro schema (JSON) from that file: ${err instanceof Error ? err.message : String(err)}`)
    }
    return { kind: 'avro', serializer: serializers.avro(schema as object) as Serializer<unknown> }
  }
  if (kind === 'registry' && /^https?:\/\/\S+$/.test(arg)) return { kind: 'registry', serializer: serializers.schemaRegistry<unknown>({ host: arg }) }
  throw new UsageError(`--value: expected string, json, bytes, avro=<schema file> or registry=<http(s) url>, got '${raw}'`)
}

/** Renders a payload as the user asked; a record that does not decode is shown raw, never dropped. */
export async function decodeValue(buf: Buffer | null, format: ValueFormat, topic: string): Promise<unknown> {
  if (buf === null) return null
  switch (format.kind) {
    case 'bytes':
      return buf.toString('hex')
    case 'string':
      return buf.toString('utf8')
    case 'json':
      try {
        return JSON.parse(buf.toString('utf8')) as unknown
      } catch {
        return { invalidJson: buf.toString('utf8') }
      }
    default:
      try {
        return await format.serializer.deserialize(buf, { topic, part: 'value' })
      } catch (err) {
        return { undecodable: buf.toString('hex'), error: err instanceof Error ? err.message : String(err) }
      }
  }
}

interface TailFlags extends ConnectionFlags {
  group?: string
  fromBeginning?: boolean
  value: ValueFormat
  max?: number
  json?: boolean
}

function headersOf(msg: ConsumedMessage<Buffer, Buffer>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(msg.headers)) if (v !== undefined) out[k] = v.toString('utf8')
  return out
}

async function printRecord(out: Output, msg: ConsumedMessage<Buffer, Buffer>, format: ValueFormat): Promise<void> {
  const record = {
    topic: msg.topic,
    partition: msg.partition,
    offset: msg.offset,
    timestamp: msg.timestamp,
    key: msg.key === null ? null : msg.key.toString('utf8'),
    value: await decodeValue(msg.value, format, msg.topic),
    headers: headersOf(msg),
  }
  if (out.json) {
    // One JSON document per line: the stream can be piped into jq as records arrive.
    process.stdout.write(`${JSON.stringify(record, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : Buffer.isBuffer(v) ? v.toString('base64') : v))}\n`)
    return
  }
  const value = typeof record.value === 'string' ? record.value : JSON.stringify(record.value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))
  const headers = Object.keys(record.headers).length > 0 ? `  ${out.paint('dim', JSON.stringify(record.headers))}` : ''
  out.line(`${out.paint('cyan', `p${record.partition}`)} ${out.paint('dim', `@${record.offset}`)}  ${out.paint('yellow', record.key ?? '(no key)')}  ${value}${headers}`)
}

/** `kafkatune tail <topic>`: print records as they arrive. */
export function tailCommand(): Command {
  return withConnectionFlags(
    new Command('tail')
      .description('print records of a topic (partition, offset, key, value, headers) as they arrive; Ctrl-C stops')
      .argument('<topic>', 'the topic to read')
      .option('-g, --group <id>', 'read as this consumer group and commit what was printed (default: a throwaway group that never commits)')
      .option('--from-beginning', 'start at the oldest record (default: only new records, or the group\'s committed position)')
      .addOption(
        new Option('--value <format>', 'how to show values: string, json, bytes (hex), avro=<schema.avsc> (schemaless Avro), registry=<url> (Confluent wire format)')
          .argParser(parseValueFormat)
          .default({ kind: 'string' }, 'string'),
      )
      .option('-n, --max <count>', 'stop after this many records', (v) => positiveInt('--max', v))
      .option('--json', 'one JSON document per record and line'),
  )
    .addHelpText('after', '\nExit codes: 0 stopped (Ctrl-C or --max reached), 1 Kafka unreachable or the topic does not exist, 2 usage error.')
    .action(async (topic: string, flags: TailFlags) => {
      const out = createOutput({ json: flags.json === true })
      const conn = connectionFrom(flags)
      if (topic.trim() === '') throw new UsageError('tail needs a topic name')
      await probeCluster(conn, flags.timeout)
      const admin = createAdmin(conn)
      try {
        const topics = await admin.listTopics()
        if (!topics.includes(topic)) throw new Error(`topic '${topic}' does not exist (tail never creates topics)`)
      } finally {
        await admin.disconnect()
      }
      const throwaway = flags.group === undefined
      const groupId = flags.group ?? `kafkatune-tail-${randomBytes(6).toString('hex')}`
      const consumer = createConsumer<Buffer, Buffer>({
        ...conn,
        groupId,
        topics: [topic],
        keyDeserializer: serializers.bytes(),
        valueDeserializer: serializers.bytes(),
        autoOffsetReset: flags.fromBeginning === true ? 'earliest' : 'latest',
        // Without --group nothing is ever committed: the timer never fires and the process leaves without stop().
        commit: throwaway ? { strategy: 'interval', intervalMs: 2_147_483_647 } : { strategy: 'interval', intervalMs: 1000 },
        sessionTimeoutMs: throwaway ? 6000 : 10_000,
        heartbeatIntervalMs: 2000,
      })
      let seen = 0
      let finish!: () => void
      const maxReached = new Promise<void>((resolve) => {
        finish = resolve
      })
      const signal = untilSignal()
      await consumer.connect()
      // After the join and right before fetching starts (a new group's 'latest' position is read at its first fetch).
      consumer.on('consumer.partitions-assigned', () => out.note(`kafkatune: reading ${topic} as ${throwaway ? 'a throwaway group (no commits)' : `group ${groupId}`}; Ctrl-C stops`))
      const stopped = consumer.stopped()
      await consumer.run({
        eachMessage: async (msg) => {
          // A record past --max must not count as handled, or the group would commit it unprinted.
          if (flags.max !== undefined && seen >= flags.max) throw PAST_MAX
          seen++
          await printRecord(out, msg, flags.value)
          if (flags.max !== undefined && seen >= flags.max) finish()
        },
      })
      await Promise.race([
        signal.done,
        maxReached,
        stopped.catch((err: unknown) => {
          if (!(err instanceof Error && err.cause === PAST_MAX)) throw err
        }),
      ])
      signal.dispose()
      if (!throwaway) {
        // With a group, what was printed is committed and the member leaves the group at once.
        await consumer.disconnect().catch((err: unknown) => {
          if (!(err instanceof Error && err.cause === PAST_MAX)) throw err
        })
      }
      out.note(`kafkatune: ${seen} record${seen === 1 ? '' : 's'}`)
      process.exitCode = EXIT.OK
    })
}
