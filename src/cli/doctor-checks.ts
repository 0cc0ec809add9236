/**
 * The doctor's rules: pure functions from what the cluster reports and what the clients will use to
 * findings, each naming the exact setting to change. No I/O here, so every rule is unit-tested.
 */
import type { GroupDescription, TopicDescription, TopicLag } from '../index.js'

export type Severity = 'error' | 'warning' | 'info'

/** The one change that fixes a finding. */
export interface Fix {
  /** Where the setting lives: a topic, the brokers, or the client (a kafkatune option). */
  scope: 'topic' | 'broker' | 'producer' | 'consumer' | 'cluster'
  /** The setting by name (`min.insync.replicas`, `sessionTimeoutMs`, ...). */
  setting: string
  /** The value to set. */
  value: string
  /** A command that applies it, where Kafka's tools can. */
  command?: string
}

export interface Finding {
  severity: Severity
  /** A stable id, e.g. `topic.min-isr-above-rf`. */
  check: string
  /** What the finding is about: `topic orders`, `group billing`, `cluster`. */
  subject: string
  message: string
  fix: Fix
}

/** What the producer and consumer the preset (plus overrides) would build will use. */
export interface ClientPlan {
  preset: string | null
  acks: 0 | 1 | 'all'
  compression: string
  maxRequestSize: number
  sessionTimeoutMs: number
  transactional: boolean
}

/** Everything the doctor read from the cluster. */
export interface ClusterFacts {
  brokerCount: number
  broker: Record<string, string>
  topics: TopicDescription[]
  groups: { group: GroupDescription; lags: TopicLag[] }[]
}

const topicCmd = (topic: string, setting: string, value: string) =>
  `kafka-configs.sh --bootstrap-server $BROKERS --alter --entity-type topics --entity-name ${topic} --add-config ${setting}=${value}`
const brokerCmd = (setting: string, value: string) => `kafka-configs.sh --bootstrap-server $BROKERS --alter --entity-type brokers --entity-default --add-config ${setting}=${value}`

const num = (v: string | undefined): number | undefined => {
  if (v === undefined || v === null || v === '') return undefined
  const n = Number(v)
  return Number.isFinite(n) ? n : undefined
}

/** The replication factor a production topic should have on this cluster: 3, or every broker when fewer. */
export function wantedReplication(brokerCount: number): number {
  return Math.min(3, Math.max(1, brokerCount))
}

/** Findings about one topic's partitions and configs. */
export function topicFindings(t: TopicDescription, plan: ClientPlan, brokerCount: number): Finding[] {
  const out: Finding[] = []
  const subject = `topic ${t.name}`
  const offline = t.partitions.filter((p) => p.leader < 0).map((p) => p.partition)
  if (offline.length > 0) {
    out.push({
      severity: 'error',
      check: 'topic.offline-partitions',
      subject,
      message: `partition(s) ${offline.join(', ')} have no leader: reads and writes to them fail`,
      fix: { scope: 'cluster', setting: 'broker availability', value: `bring replicas ${[...new Set(t.partitions.filter((p) => p.leader < 0).flatMap((p) => p.replicas))].join(', ')} back online` },
    })
  }
  const under = t.partitions.filter((p) => p.leader >= 0 && p.isr.length < p.replicas.length)
  if (under.length > 0) {
    out.push({
      severity: 'warning',
      check: 'topic.under-replicated',
      subject,
      message: `${under.length} of ${t.partitions.length} partition(s) under-replicated (in-sync ${under.map((p) => `p${p.partition}: ${p.isr.length}/${p.replicas.length}`).join(', ')}): one more broker loss may lose data or stop acks=all writes`,
      fix: { scope: 'cluster', setting: 'broker availability', value: `restart or repair broker(s) ${[...new Set(under.flatMap((p) => p.replicas.filter((r) => !p.isr.includes(r))))].join(', ')}` },
    })
  }
  const rf = Math.min(...t.partitions.map((p) => p.replicas.length))
  const minIsr = num(t.config['min.insync.replicas']) ?? 1
  const wanted = wantedReplication(brokerCount)
  if (Number.isFinite(rf) && rf < wanted) {
    out.push({
      severity: 'warning',
      check: 'topic.replication-factor',
      subject,
      message: `replication factor ${rf} on a ${brokerCount}-broker cluster${plan.acks === 'all' ? ': acks=all waits for one copy only' : ''}; losing the leader's disk loses acknowledged records`,
      fix: { scope: 'topic', setting: 'replication.factor', value: String(wanted), command: `kafka-reassign-partitions.sh --bootstrap-server $BROKERS --execute --reassignment-json-file <plan with ${wanted} replicas per partition>` },
    })
  }
  if (minIsr > rf) {
    out.push({
      severity: plan.acks === 'all' ? 'error' : 'warning',
      check: 'topic.min-isr-above-rf',
      subject,
      message: `min.insync.replicas ${minIsr} is above the replication factor ${rf}: every acks=all write fails with NOT_ENOUGH_REPLICAS${plan.acks === 'all' ? ` (this producer uses acks=all)` : ''}`,
      fix: { scope: 'topic', setting: 'min.insync.replicas', value: String(Math.max(1, rf - 1)), command: topicCmd(t.name, 'min.insync.replicas', String(Math.max(1, rf - 1))) },
    })
  } else if (plan.acks === 'all' && rf >= 2 && minIsr < 2) {
    out.push({
      severity: 'warning',
      check: 'topic.min-isr-one',
      subject,
      message: `acks=all with min.insync.replicas ${minIsr} on replication factor ${rf}: a write counts as done with the leader alone when followers fall behind`,
      fix: { scope: 'topic', setting: 'min.insync.replicas', value: '2', command: topicCmd(t.name, 'min.insync.replicas', '2') },
    })
  } else if (plan.acks === 'all' && rf >= 2 && minIsr === rf) {
    out.push({
      severity: 'warning',
      check: 'topic.min-isr-equals-rf',
      subject,
      message: `min.insync.replicas ${minIsr} equals the replication factor: one broker down stops every acks=all write`,
      fix: { scope: 'topic', setting: 'min.insync.replicas', value: String(rf - 1), command: topicCmd(t.name, 'min.insync.replicas', String(rf - 1)) },
    })
  }
  if (t.config['unclean.leader.election.enable'] === 'true') {
    out.push({
      severity: plan.transactional ? 'error' : 'warning',
      check: 'topic.unclean-leader-election',
      subject,
      message: 'unclean.leader.election.enable=true: an out-of-sync replica may become leader and drop acknowledged records',
      fix: { scope: 'topic', setting: 'unclean.leader.election.enable', value: 'false', command: topicCmd(t.name, 'unclean.leader.election.enable', 'false') },
    })
  }
  const maxMessage = num(t.config['max.message.bytes'])
  if (maxMessage !== undefined && maxMessage < plan.maxRequestSize) {
    out.push({
      severity: 'warning',
      check: 'topic.max-message-bytes',
      subject,
      message: `max.message.bytes ${maxMessage} is below the producer's maxRequestSize ${plan.maxRequestSize}: batches between the two pass the client and are refused by the broker (MESSAGE_TOO_LARGE)`,
      fix: { scope: 'topic', setting: 'max.message.bytes', value: String(plan.maxRequestSize), command: topicCmd(t.name, 'max.message.bytes', String(plan.maxRequestSize)) },
    })
  }
  const topicCompression = t.config['compression.type']
  const producerCompression = plan.compression === 'none' ? 'uncompressed' : plan.compression
  if (topicCompression !== undefined && topicCompression !== 'producer' && topicCompression !== producerCompression) {
    out.push({
      severity: 'warning',
      check: 'topic.compression-mismatch',
      subject,
      message: `compression.type ${topicCompression} differs from the producer's ${plan.compression}: the broker recompresses every batch (broker CPU, and the producer's choice is lost)`,
      fix: { scope: 'topic', setting: 'compression.type', value: 'producer', command: topicCmd(t.name, 'compression.type', 'producer') },
    })
  }
  return out
}

/** Cluster-wide findings: the transaction log for exactly-once, the group session bounds. */
export function brokerFindings(facts: Pick<ClusterFacts, 'broker' | 'brokerCount'>, plan: ClientPlan): Finding[] {
  const out: Finding[] = []
  const b = facts.broker
  if (plan.transactional) {
    const rf = num(b['transaction.state.log.replication.factor'])
    const minIsr = num(b['transaction.state.log.min.isr'])
    const wanted = wantedReplication(facts.brokerCount)
    if (rf !== undefined && rf < wanted) {
      out.push({
        severity: 'warning',
        check: 'broker.transaction-log-replication',
        subject: 'cluster',
        message: `transaction.state.log.replication.factor ${rf} on a ${facts.brokerCount}-broker cluster: exactly-once commits depend on a transaction log with ${rf} cop${rf === 1 ? 'y' : 'ies'}`,
        fix: { scope: 'broker', setting: 'transaction.state.log.replication.factor', value: String(wanted), command: `set transaction.state.log.replication.factor=${wanted} in server.properties before the first transaction (the topic is created once)` },
      })
    }
    if (rf !== undefined && minIsr !== undefined && minIsr > rf) {
      out.push({
        severity: 'error',
        check: 'broker.transaction-log-min-isr',
        subject: 'cluster',
        message: `transaction.state.log.min.isr ${minIsr} is above its replication factor ${rf}: transactions cannot commit`,
        fix: { scope: 'broker', setting: 'transaction.state.log.min.isr', value: String(Math.max(1, rf - 1)), command: brokerCmd('transaction.state.log.min.isr', String(Math.max(1, rf - 1))) },
      })
    }
  }
  const min = num(b['group.min.session.timeout.ms'])
  const max = num(b['group.max.session.timeout.ms'])
  if (min !== undefined && plan.sessionTimeoutMs < min) {
    out.push({
      severity: 'error',
      check: 'broker.session-timeout-below-min',
      subject: 'cluster',
      message: `the consumer's sessionTimeoutMs ${plan.sessionTimeoutMs} is below group.min.session.timeout.ms ${min}: joining the group fails (INVALID_SESSION_TIMEOUT)`,
      fix: { scope: 'consumer', setting: 'sessionTimeoutMs (session.timeout.ms)', value: String(min) },
    })
  }
  if (max !== undefined && plan.sessionTimeoutMs > max) {
    out.push({
      severity: 'error',
      check: 'broker.session-timeout-above-max',
      subject: 'cluster',
      message: `the consumer's sessionTimeoutMs ${plan.sessionTimeoutMs} is above group.max.session.timeout.ms ${max}: joining the group fails (INVALID_SESSION_TIMEOUT)`,
      fix: { scope: 'consumer', setting: 'sessionTimeoutMs (session.timeout.ms)', value: String(max) },
    })
  }
  return out
}

/** Findings about one consumer group: its state, members vs partitions, and lag nobody works off. */
export function groupFindings(group: GroupDescription, lags: readonly TopicLag[], partitionCounts: ReadonlyMap<string, number>): Finding[] {
  const out: Finding[] = []
  const subject = `group ${group.groupId}`
  const totalLag = lags.reduce((n, l) => n + l.total, 0)
  if ((group.state === 'Empty' || group.state === 'Dead') && totalLag > 0) {
    out.push({
      severity: 'warning',
      check: 'group.no-members-with-lag',
      subject,
      message: `no member is consuming (state ${group.state}) and ${totalLag} record(s) wait: ${lags.filter((l) => l.total > 0).map((l) => `${l.topic} ${l.total}`).join(', ')}`,
      fix: { scope: 'consumer', setting: 'consumers', value: `start at least one consumer with groupId '${group.groupId}'` },
    })
  }
  if (group.state === 'PreparingRebalance' || group.state === 'CompletingRebalance') {
    out.push({
      severity: 'info',
      check: 'group.rebalancing',
      subject,
      message: `the group is rebalancing (${group.state}); if this persists, a member keeps joining and leaving (handler longer than maxPollIntervalMs?)`,
      fix: { scope: 'consumer', setting: 'maxPollIntervalMs (max.poll.interval.ms)', value: 'above the longest handler call' },
    })
  }
  const members = group.members.length
  const partitions = [...new Set(lags.map((l) => l.topic))].reduce((n, topic) => n + (partitionCounts.get(topic) ?? 0), 0)
  if (members > 0 && partitions > 0 && members > partitions) {
    out.push({
      severity: 'warning',
      check: 'group.members-above-partitions',
      subject,
      message: `${members} members share ${partitions} partition(s): ${members - partitions} member(s) sit idle`,
      fix: {
        scope: 'topic',
        setting: 'partitions',
        value: String(members),
        command: `kafka-topics.sh --bootstrap-server $BROKERS --alter --topic ${lags[0]?.topic ?? '<topic>'} --partitions ${members}`,
      },
    })
  }
  return out
}

const ORDER: Record<Severity, number> = { error: 0, warning: 1, info: 2 }

/** Every finding, worst first. */
export function diagnose(facts: ClusterFacts, plan: ClientPlan): Finding[] {
  const partitionCounts = new Map(facts.topics.map((t) => [t.name, t.partitions.length]))
  const all = [
    ...brokerFindings(facts, plan),
    ...facts.topics.flatMap((t) => topicFindings(t, plan, facts.brokerCount)),
    ...facts.groups.flatMap((g) => groupFindings(g.group, g.lags, partitionCounts)),
  ]
  return all.sort((a, b) => ORDER[a.severity] - ORDER[b.severity])
}

/** Exit code of a doctor run: 1 when anything at warning or error was found. */
export function doctorExitCode(findings: readonly Finding[]): 0 | 1 {
  return findings.some((f) => f.severity !== 'info') ? 1 : 0
}
