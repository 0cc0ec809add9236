/** Pieces shared by the request bodies kafkatune encodes. */

/** Writes a topic entry's head (INT16 name length, the name, INT32 partition count); returns the next position. */
export function writeTopicHead(buf: Buffer, pos: number, topic: string, partitions: number): number {
  pos = buf.writeInt16BE(Buffer.byteLength(topic), pos)
  pos += buf.write(topic, pos, 'utf8')
  return buf.writeInt32BE(partitions, pos)
}
