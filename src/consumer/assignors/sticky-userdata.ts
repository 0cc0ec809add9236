/**
 * The `sticky` assignor's userData, in the Java client's StickyAssignor format so that kafkatune and Java
 * members of one group read each other's previous assignments (and never trip over each other's bytes).
 *
 * V1 (what Java 2.3+ writes): `[topic: string, partitions: [int32]]` array, then `generation: int32`.
 * V0 (older Java): the same array without the generation. Java sends null userData on its first join.
 * kafkatune before 0.2 wrote JSON (`{"v":1,"g":...,"a":{...}}`); it is still read, so a rolling upgrade keeps
 * its stickiness.
 */
import type { TopicPartitions } from './types.js'

/** What a member remembers of its last assignment; sent as userData when it (re)joins. */
export interface StickyMemory {
  /** The group generation of that assignment (-1 when unknown); a newer generation wins a conflicting claim. */
  generation: number
  assignment: TopicPartitions
}

/** Java's DEFAULT_GENERATION: the member does not know the generation of its assignment. */
export const NO_GENERATION = -1

/** Encodes a member's previous assignment as Java StickyAssignor userData (V1); no memory is empty userData. */
export function encodeStickyUserData(memory: StickyMemory | null): Buffer {
  if (memory === null) return Buffer.alloc(0)
  const topics = Object.entries(memory.assignment).filter(([, parts]) => parts.length > 0)
  let size = 4 + 4
  const names = topics.map(([topic]) => Buffer.from(topic, 'utf8'))
  topics.forEach(([, parts], i) => (size += 2 + names[i]!.length + 4 + 4 * parts.length))
  const buf = Buffer.alloc(size)
  let at = buf.writeInt32BE(topics.length, 0)
  topics.forEach(([, parts], i) => {
    at = buf.writeInt16BE(names[i]!.length, at)
    at += names[i]!.copy(buf, at)
    at = buf.writeInt32BE(parts.length, at)
    for (const p of parts) at = buf.writeInt32BE(p, at)
  })
  buf.writeInt32BE(memory.generation | 0, at)
  return buf
}

/**
 * Decodes userData written by kafkatune or by the Java client's StickyAssignor (V1 or V0). Null, empty or
 * unreadable userData reads as "no previous assignment" (as Java does), never as an error.
 */
export function decodeStickyUserData(buf: Buffer | null | undefined): StickyMemory | null {
  if (buf === null || buf === undefined || buf.length === 0) return null
  return readJavaFormat(buf) ?? readLegacyJson(buf)
}

function readJavaFormat(buf: Buffer): StickyMemory | null {
  try {
    let at = 0
    const count = buf.readInt32BE(at)
    at += 4
    if (count < 0 || count > buf.length) return null
    const assignment: TopicPartitions = {}
    for (let i = 0; i < count; i++) {
      const len = buf.readInt16BE(at)
      at += 2
      if (len < 0 || at + len > buf.length) return null
      const topic = buf.toString('utf8', at, at + len)
      at += len
      const n = buf.readInt32BE(at)
      at += 4
      if (n < 0 || at + 4 * n > buf.length) return null
      const parts: number[] = []
      for (let j = 0; j < n; j++, at += 4) parts.push(buf.readInt32BE(at))
      // defineProperty: a topic may be named like an Object.prototype member ("__proto__" is a legal topic name).
      Object.defineProperty(assignment, topic, { value: parts, enumerable: true, writable: true, configurable: true })
    }
    if (at === buf.length) return { generation: NO_GENERATION, assignment } // V0
    if (at + 4 === buf.length) return { generation: buf.readInt32BE(at), assignment } // V1
    return null
  } catch {
    return null // out of range: not this format
  }
}

function readLegacyJson(buf: Buffer): StickyMemory | null {
  try {
    const parsed = JSON.parse(buf.toString('utf8')) as { v?: unknown; g?: unknown; a?: unknown }
    if (parsed.v !== 1 || typeof parsed.g !== 'number' || typeof parsed.a !== 'object' || parsed.a === null) return null
    const assignment: TopicPartitions = {}
    for (const [topic, parts] of Object.entries(parsed.a as Record<string, unknown>)) {
      if (Array.isArray(parts)) {
        Object.defineProperty(assignment, topic, { value: parts.filter((p): p is number => Number.isInteger(p)), enumerable: true, writable: true, configurable: true })
      }
    }
    // Old kafkatune members stamped join times (ms), which would outrank every real generation.
    return { generation: NO_GENERATION, assignment }
  } catch {
    return null
  }
}
