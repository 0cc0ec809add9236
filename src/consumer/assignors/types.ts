/** One group member as an assignor sees it. */
export interface AssignorMember {
  memberId: string
  /** Topics this member subscribed to. */
  topics: readonly string[]
  /** What the member sent along (the sticky assignor's previous assignment); null when it sent none, as the Java client does on its first join. */
  userData?: Buffer | null
}

/** Partitions per topic, e.g. `{ orders: [0, 1, 2] }`. */
export type TopicPartitions = Record<string, number[]>

/** The pure core of an assignor: who gets which partitions. Every member appears in the result, maybe with nothing. */
export type AssignFn = (
  members: readonly AssignorMember[],
  partitionsPerTopic: ReadonlyMap<string, readonly number[]>,
) => Map<string, TopicPartitions>

/** A partition with its topic, ordered by topic then partition. */
export interface TP {
  topic: string
  partition: number
}

export function sortedMembers(members: readonly AssignorMember[]): AssignorMember[] {
  return [...members].sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0))
}

export function emptyAssignment(members: readonly AssignorMember[]): Map<string, TopicPartitions> {
  return new Map(members.map((m) => [m.memberId, {} as TopicPartitions]))
}

export function addTo(assignment: Map<string, TopicPartitions>, memberId: string, tp: TP): void {
  const a = assignment.get(memberId)
  if (a === undefined) return
  ;(a[tp.topic] ??= []).push(tp.partition)
}

/** Every partition of the given topics in a stable order. */
export function allPartitions(topics: Iterable<string>, partitionsPerTopic: ReadonlyMap<string, readonly number[]>): TP[] {
  const out: TP[] = []
  for (const topic of [...new Set(topics)].sort()) {
    for (const partition of [...(partitionsPerTopic.get(topic) ?? [])].sort((a, b) => a - b)) out.push({ topic, partition })
  }
  return out
}
