/**
 * The offset map: which records above a partition's committed offset already completed, carried in the offset
 * commit's metadata string so a restart or a new owner skips them. Two encodings, the smaller one wins:
 * a bitset (one bit per offset after the committed one) or run lengths (alternating runs of incomplete and
 * completed offsets, as unsigned LEB128 varints). Both are base64url, so the string stays ASCII-safe.
 *
 *   kt1:<b|r>:<committed offset>:<base64url payload>
 *
 * The committed offset is repeated inside so a map is only applied to the offset it was written with (a seek
 * or another client committing a plain offset makes it void).
 */

/** The broker's `offset.metadata.max.bytes` default. */
export const DEFAULT_METADATA_MAX_BYTES = 4096

const PREFIX = 'kt1'

/** A decoded map: the committed offset it belongs to and the completed offsets above it. */
export interface OffsetMap {
  committed: bigint
  /** Offsets above `committed` that completed, ascending. */
  completed: bigint[]
}

function bitset(rel: readonly number[]): Buffer {
  // rel are offsets minus (committed + 1), ascending, >= 0
  const buf = Buffer.alloc(rel.length === 0 ? 0 : (rel[rel.length - 1]! >> 3) + 1)
  for (const r of rel) buf[r >> 3]! |= 1 << (r & 7)
  return buf
}

function varints(values: readonly number[]): Buffer {
  const out: number[] = []
  for (let v of values) {
    while (v >= 0x80) {
      out.push((v & 0x7f) | 0x80)
      v = Math.floor(v / 128)
    }
    out.push(v)
  }
  return Buffer.from(out)
}

function runs(rel: readonly number[]): Buffer {
  // Alternating run lengths, starting with a run of incomplete offsets (possibly 0 long).
  const lengths: number[] = []
  let pos = 0
  let i = 0
  while (i < rel.length) {
    const start = rel[i]!
    let end = start
    while (i + 1 < rel.length && rel[i + 1] === end + 1) {
      i++
      end++
    }
    i++
    lengths.push(start - pos, end - start + 1)
    pos = end + 1
  }
  return varints(lengths)
}

/**
 * Encodes the completed offsets above `committed` (the next offset to read, i.e. the lowest incomplete one).
 * Returns `null` when nothing above it completed (a plain commit says it all).
 */
export function encodeOffsetMap(committed: bigint, completed: Iterable<bigint>): string | null {
  const rel: number[] = []
  for (const o of completed) {
    const r = Number(o - committed - 1n)
    if (r >= 0) rel.push(r)
  }
  if (rel.length === 0) return null
  rel.sort((a, b) => a - b)
  // A duplicate would make a negative run length, which decodes as a different map: keep each offset once.
  let w = 0
  for (let i = 0; i < rel.length; i++) if (i === 0 || rel[i] !== rel[w - 1]) rel[w++] = rel[i]!
  rel.length = w
  const b = bitset(rel)
  const r = runs(rel)
  const [kind, payload] = r.length < b.length ? ['r', r] : ['b', b]
  return `${PREFIX}:${kind}:${committed}:${payload.toString('base64url')}`
}

/** The length of the map `encodeOffsetMap` would write for offsets up to `span` after the committed one, at worst. */
export function worstCaseLength(committed: bigint, span: number): number {
  return `${PREFIX}:b:${committed}:`.length + Math.ceil(Math.ceil(span / 8) / 3) * 4
}

/** How many offsets after the committed one a map may cover and still fit in `maxBytes`, whatever completed. */
export function maxSpan(committed: bigint, maxBytes: number): number {
  const room = maxBytes - `${PREFIX}:b:${committed}:`.length
  return Math.max(0, Math.floor(room / 4) * 3 * 8)
}

/** Decodes a metadata string; `null` for anything that is not an offset map kafkatune wrote (never throws). */
export function decodeOffsetMap(metadata: string | null | undefined): OffsetMap | null {
  if (typeof metadata !== 'string') return null
  const m = /^kt1:([br]):(\d{1,20}):([A-Za-z0-9_-]*)$/.exec(metadata)
  if (m === null) return null
  const committed = BigInt(m[2]!)
  const payload = Buffer.from(m[3]!, 'base64url')
  const completed: bigint[] = []
  const base = committed + 1n
  if (m[1] === 'b') {
    for (let i = 0; i < payload.length; i++) {
      const byte = payload[i]!
      for (let bit = 0; bit < 8; bit++) if (byte & (1 << bit)) completed.push(base + BigInt(i * 8 + bit))
    }
  } else {
    const lengths: number[] = []
    let v = 0
    let mul = 1
    for (const byte of payload) {
      v += (byte & 0x7f) * mul
      if (byte & 0x80) mul *= 128
      else {
        lengths.push(v)
        v = 0
        mul = 1
      }
    }
    let pos = 0
    for (let i = 0; i + 1 < lengths.length; i += 2) {
      pos += lengths[i]!
      for (let k = 0; k < lengths[i + 1]!; k++) completed.push(base + BigInt(pos + k))
      pos += lengths[i + 1]!
    }
  }
  return { committed, completed }
}
