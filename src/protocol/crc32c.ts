/**
 * CRC32C (Castagnoli), the checksum of RecordBatch v2. The native one (`@node-rs/crc32`, prebuilt
 * binaries inside npm, SIMD) runs at several GB/s; where it does not load, a table-driven JS
 * implementation (slicing by 8) gives the same values more slowly.
 */
import { createRequire } from 'node:module'

type Crc32c = (buf: Buffer) => number

const TABLES: Uint32Array[] = (() => {
  const tables: Uint32Array[] = []
  const t0 = new Uint32Array(256)
  for (let i = 0; i < 256; i++) {
    let c = i
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1
    t0[i] = c >>> 0
  }
  tables.push(t0)
  for (let t = 1; t < 8; t++) {
    const prev = tables[t - 1] as Uint32Array
    const next = new Uint32Array(256)
    for (let i = 0; i < 256; i++) next[i] = ((prev[i] as number) >>> 8) ^ (t0[(prev[i] as number) & 0xff] as number)
    tables.push(next)
  }
  return tables
})()

/** CRC32C of `buf` in plain JS (the fallback; also the reference the native one is tested against). */
export function crc32cJs(buf: Uint8Array): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = TABLES as [Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array]
  let crc = 0xffffffff
  let i = 0
  const n = buf.length
  const end8 = n - (n % 8)
  for (; i < end8; i += 8) {
    const a = (crc ^ ((buf[i] as number) | ((buf[i + 1] as number) << 8) | ((buf[i + 2] as number) << 16) | ((buf[i + 3] as number) << 24))) >>> 0
    crc =
      (t7[a & 0xff] as number) ^
      (t6[(a >>> 8) & 0xff] as number) ^
      (t5[(a >>> 16) & 0xff] as number) ^
      (t4[a >>> 24] as number) ^
      (t3[buf[i + 4] as number] as number) ^
      (t2[buf[i + 5] as number] as number) ^
      (t1[buf[i + 6] as number] as number) ^
      (t0[buf[i + 7] as number] as number)
  }
  for (; i < n; i++) crc = (t0[(crc ^ (buf[i] as number)) & 0xff] as number) ^ (crc >>> 8)
  return (crc ^ 0xffffffff) >>> 0
}

function loadNativeCrc32c(): Crc32c | null {
  try {
    const mod = createRequire(import.meta.url)('@node-rs/crc32') as { crc32c?: (input: Buffer, initial?: number) => number }
    const fn = mod.crc32c
    if (typeof fn !== 'function') return null
    // A broken binary must not write wrong checksums: check a known vector before trusting it.
    if (fn(Buffer.from('123456789')) !== 0xe3069283) return null
    return (buf) => fn(buf) >>> 0
  } catch {
    return null
  }
}

const native = loadNativeCrc32c()

/** Which implementation `crc32c` uses in this process. */
export const crc32cImplementation: 'native' | 'js' = native === null ? 'js' : 'native'

/** CRC32C of `buf` (unsigned 32-bit). */
export const crc32c: Crc32c = native ?? crc32cJs
