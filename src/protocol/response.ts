/** Pieces shared by the response decoders of `src/protocol/`. */
import { KafkatuneError } from '../errors.js'

/** A `CORRUPT_RECORD` error for a response that ends before `pos + n`. */
export function checkLength(buf: Buffer, pos: number, n: number, what: string): void {
  if (n < 0 || pos + n > buf.length) throw new KafkatuneError('CORRUPT_RECORD', `${what} response truncated at byte ${pos} (${buf.length} bytes)`, { retriable: false })
}

/** Reads one topic entry's head (int16-length UTF-8 name, int32 partition count) at `pos`. */
export function readTopicHead(buf: Buffer, pos: number, what: string): { topic: string; partitions: number; pos: number } {
  checkLength(buf, pos, 2, what)
  const len = buf.readInt16BE(pos)
  pos += 2
  checkLength(buf, pos, len, what)
  const topic = buf.toString('utf8', pos, pos + len)
  pos += len
  checkLength(buf, pos, 4, what)
  return { topic, partitions: buf.readInt32BE(pos), pos: pos + 4 }
}
