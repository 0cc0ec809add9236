import { explainConfig } from '../index.js'
import { UsageError } from './exit.js'

/**
 * Parses one `--set` value: numbers and booleans as such, JSON for objects, arrays and quoted strings,
 * anything else as a string (so `compression=lz4` needs no quotes).
 */
export function parseSetValue(raw: string): unknown {
  const text = raw.trim()
  if (text === 'true') return true
  if (text === 'false') return false
  if (text === 'null') return null
  if (text !== '' && /^-?(\d+(\.\d+)?|\.\d+)([eE][+-]?\d+)?$/.test(text)) return Number(text)
  if (/^[[{"]/.test(text)) {
    try {
      return JSON.parse(text) as unknown
    } catch (err) {
      throw new UsageError(`--set: '${raw}' looks like JSON but does not parse (${err instanceof Error ? err.message : String(err)})`)
    }
  }
  return raw
}

let javaNames: Map<string, string> | undefined

/** Java client property -> kafkatune option, read from the settings table itself (`explainConfig` rows). */
export function javaNameMap(): Map<string, string> {
  if (javaNames !== undefined) return javaNames
  const map = new Map<string, string>()
  const rows = [
    ...explainConfig('producer', { brokers: ['127.0.0.1:9092'] }),
    ...explainConfig('consumer', { brokers: ['127.0.0.1:9092'], groupId: 'g', topics: ['t'] }),
  ]
  for (const row of rows) {
    // Composite rows such as 'enable.auto.commit / auto.commit.interval.ms' have no one-to-one option.
    if (row.javaProperty !== null && !row.javaProperty.includes(' ')) map.set(row.javaProperty, row.option)
  }
  javaNames = map
  return map
}

/** One `--set` as written and as understood. */
export interface SetEntry {
  /** The kafkatune option name (a Java property name is translated). */
  option: string
  value: unknown
  /** `producer.` / `consumer.` prefix given on the command line, for pipeline settings. */
  side?: 'producer' | 'consumer'
}

/** Parses `key=value` pairs; keys may be kafkatune options or Java property names, optionally prefixed `producer.`/`consumer.`. */
export function parseSets(pairs: readonly string[]): SetEntry[] {
  return pairs.map((pair) => {
    const eq = pair.indexOf('=')
    if (eq <= 0) throw new UsageError(`--set expects option=value (e.g. lingerMs=50 or linger.ms=50), got '${pair}'`)
    let key = pair.slice(0, eq).trim()
    let side: SetEntry['side']
    const prefixed = /^(producer|consumer)\.(.+)$/.exec(key)
    if (prefixed !== null && !javaNameMap().has(key)) {
      side = prefixed[1] as 'producer' | 'consumer'
      key = prefixed[2] as string
    }
    const javaOption = javaNameMap().get(key)
    let value = parseSetValue(pair.slice(eq + 1))
    // Java writes acks=all as -1 too.
    if ((javaOption ?? key) === 'acks' && value === -1) value = 'all'
    return { option: javaOption ?? key, value, ...(side === undefined ? {} : { side }) }
  })
}

/** The entries as an options object (later `--set` of the same option wins). */
export function setsToOptions(entries: readonly SetEntry[]): Record<string, unknown> {
  return Object.fromEntries(entries.map((e) => [e.option, e.value]))
}
