import { Command } from 'commander'
import { createAdmin, explainConfig } from '../index.js'
import type { ExplainRow, TopicLag } from '../index.js'
import { connectionFrom, probeCluster, withConnectionFlags } from './connection.js'
import type { ConnectionFlags } from './connection.js'
import { diagnose, doctorExitCode } from './doctor-checks.js'
import type { ClientPlan, ClusterFacts, Finding } from './doctor-checks.js'
import { explainRows, presetArg } from './explain.js'
import { createOutput, renderTable } from './output.js'
import type { Output } from './output.js'
import { parseSets } from './set-values.js'

interface DoctorFlags extends ConnectionFlags {
  topic: string[]
  group: string[]
  preset?: string
  set: string[]
  json?: boolean
}

const collect = (v: string, acc: string[]) => [...acc, v]

/** What the preset's producer and consumer (with `--set` overrides) would use, from the settings table. */
function clientPlan(preset: string | undefined, sets: string[]): ClientPlan {
  const ref = presetArg(preset)
  const entries = parseSets(sets)
  const producer = explainRows('producer', ref, entries.filter((e) => e.side === 'producer' || (e.side === undefined && isProducerOption(e.option))))
  const consumer = explainRows('consumer', ref, entries.filter((e) => e.side === 'consumer' || (e.side === undefined && !isProducerOption(e.option))))
  const value = (rs: ExplainRow[], option: string) => rs.find((r) => r.option === option)?.value
  return {
    preset: typeof ref === 'string' ? ref : null,
    acks: value(producer, 'acks') as ClientPlan['acks'],
    compression: String(value(producer, 'compression')),
    maxRequestSize: Number(value(producer, 'maxRequestSize')),
    sessionTimeoutMs: Number(value(consumer, 'sessionTimeoutMs')),
    transactional: value(producer, 'transactionalId') !== null,
  }
}

let producerOptions: Set<string> | undefined
function isProducerOption(option: string): boolean {
  producerOptions ??= new Set(explainConfig('producer', { brokers: ['127.0.0.1:9092'] }).map((r) => r.option))
  return producerOptions.has(option)
}

/**
 * A broker that is down stays in the metadata (and may be named its controller) until the cluster fences it;
 * kafkajs sends config requests there. Doctor runs when things are wrong, so it asks the others.
 */
async function firstAnswering<T>(preferred: number | null, nodeIds: readonly number[], ask: (nodeId: number) => Promise<T>): Promise<T> {
  const order = [...new Set([...(preferred === null ? [] : [preferred]), ...nodeIds])]
  let last: unknown = new Error('the cluster reported no brokers')
  for (const id of order) {
    try {
      return await ask(id)
    } catch (err) {
      last = err
    }
  }
  throw last
}

/**
 * True when a partition somewhere has no leader. kafkajs then refuses the whole metadata answer, so
 * cluster-wide reads fail while any partition is offline: doctor reports that instead of crashing.
 */
function leaderless(err: unknown): boolean {
  for (let e: unknown = err, i = 0; e instanceof Error && i < 5; e = e.cause, i++) {
    if ((e as { type?: unknown }).type === 'LEADER_NOT_AVAILABLE') return true
  }
  return false
}

/** Retries a read for about 10 s (1, 2, 3, 4 s apart): until a down broker is fenced, requests may go to it. */
async function patiently<T>(read: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await read()
    } catch (err) {
      if (attempt > 4 || leaderless(err)) throw err
      await new Promise((r) => setTimeout(r, attempt * 1000))
    }
  }
}

const unavailable = (subject: string, message: string): Finding => ({
  severity: 'error',
  check: subject === 'cluster' ? 'cluster.offline-partitions' : 'topic.unreadable',
  subject,
  message,
  fix: { scope: 'cluster', setting: 'broker availability', value: 'bring the stopped broker(s) back online; check broker logs' },
})

type Gathered = ClusterFacts & { clusterId: string; controller: number | null; nodeIds: number[]; offline: Finding[] }

/** Reads what the checks need: cluster, one broker's settings, the topics, the groups and their lag. */
async function gather(flags: DoctorFlags, out: Output): Promise<Gathered> {
  // Few client-level retries: a partition without a leader fails fast and becomes a finding.
  const conn = { ...connectionFrom(flags), kafkajs: { retry: { retries: 3, initialRetryTime: 300, maxRetryTime: 2000 } } }
  await probeCluster(conn, flags.timeout)
  const admin = createAdmin(conn)
  // One client per topic: once a kafkajs client has met a leaderless partition, its later metadata reads fail too.
  const describeAlone = async (name: string) => {
    const own = createAdmin(conn)
    try {
      return await own.describeTopic(name)
    } finally {
      await own.disconnect()
    }
  }
  const found: Finding[] = []
  const orLeaderless = async <T>(read: () => Promise<T>, fallback: T, finding: Finding): Promise<T> => {
    try {
      return await patiently(read)
    } catch (err) {
      if (!leaderless(err)) throw err
      if (!found.some((f) => f.subject === finding.subject)) found.push(finding)
      return fallback
    }
  }
  try {
    const named = []
    for (const name of flags.topic) {
      out.progress(`reading topic ${name}...`)
      const t = await orLeaderless(() => describeAlone(name), null, unavailable(`topic ${name}`, 'not readable: kafkajs reads topic configs only while every partition of the cluster has a leader'))
      if (t !== null) named.push(t)
    }
    out.progress('reading cluster...')
    const clusterWide = unavailable('cluster', 'a partition has no leader (offline): reads and writes to it fail; kafkajs reads no cluster-wide metadata while one is, so brokers and topics are unknown')
    const cluster = await orLeaderless(() => admin.describeCluster(), { clusterId: '?', controller: null, brokers: [] }, clusterWide)
    const broker = cluster.brokers.length === 0 ? {} : await firstAnswering(cluster.controller, cluster.brokers.map((b) => b.nodeId), (id) => admin.describeBroker(id))
    const existing = await orLeaderless(() => admin.listTopics(), null, clusterWide)
    const names = flags.topic.length > 0 ? flags.topic : (existing ?? []).filter((t) => !t.startsWith('__'))
    const missing = existing === null ? [] : names.filter((t) => !existing.includes(t))
    if (missing.length > 0) throw new Error(`topic(s) not found: ${missing.join(', ')}`)
    const topics = [...named]
    for (const name of flags.topic.length > 0 ? [] : names) {
      out.progress(`reading topic ${name}...`)
      const t = await orLeaderless(() => describeAlone(name), null, unavailable(`topic ${name}`, 'not readable: kafkajs reads topic configs only while every partition of the cluster has a leader'))
      if (t !== null) topics.push(t)
    }
    const groups = []
    for (const groupId of flags.group) {
      out.progress(`reading group ${groupId}...`)
      const group = await admin.describeGroup(groupId)
      const lags: TopicLag[] = []
      for (const t of topics.map((x) => x.name)) {
        const lag = await admin.lag({ groupId, topic: t })
        // Without --topic, only topics the group has committed on are its topics.
        if (flags.topic.length > 0 || lag.partitions.some((p) => p.committed !== null)) lags.push(lag)
      }
      groups.push({ group, lags })
    }
    out.endProgress()
    // Without the broker list, the widest replica set seen stands in for the cluster size.
    const brokerCount = cluster.brokers.length > 0 ? cluster.brokers.length : Math.max(1, ...topics.flatMap((t) => t.partitions.map((p) => p.replicas.length)))
    return { clusterId: cluster.clusterId, controller: cluster.controller, nodeIds: cluster.brokers.map((b) => b.nodeId), brokerCount, broker, topics, groups, offline: found }
  } finally {
    out.endProgress()
    await admin.disconnect()
  }
}

const SEVERITY_STYLE = { error: 'red', warning: 'yellow', info: 'cyan' } as const

function printHuman(out: Output, facts: Gathered, plan: ClientPlan, findings: readonly Finding[]): void {
  if (facts.nodeIds.length === 0) out.line(`${out.paint('bold', 'cluster')} metadata unavailable (a partition has no leader)`)
  else out.line(`${out.paint('bold', 'cluster')} ${facts.clusterId}: ${facts.brokerCount} broker${facts.brokerCount === 1 ? '' : 's'} (${facts.nodeIds.join(', ')}), controller ${facts.controller ?? '-'}`)
  if (facts.brokerCount < 3) out.line(out.paint('dim', `  fewer than 3 brokers: replication is capped at ${facts.brokerCount}; fine for development, not for production`))
  out.line(`${out.paint('bold', 'clients')} preset ${plan.preset ?? '(Kafka defaults)'}: acks=${plan.acks}, compression=${plan.compression}, maxRequestSize=${plan.maxRequestSize}, sessionTimeoutMs=${plan.sessionTimeoutMs}${plan.transactional ? ', transactional' : ''}`)
  out.line(`${out.paint('bold', 'checked')} ${facts.topics.length} topic(s)${facts.topics.length > 0 ? `: ${facts.topics.map((t) => t.name).join(', ')}` : ''}; ${facts.groups.length} group(s)`)
  out.line()
  for (const { group, lags } of facts.groups) {
    out.line(`${out.paint('bold', `group ${group.groupId}`)}: ${group.state}, ${group.members.length} member(s)${group.protocol ? `, assignor ${group.protocol}` : ''}`)
    const rows = lags.flatMap((l) => l.partitions.map((p) => [l.topic, String(p.partition), p.committed ?? '-', p.high, String(p.lag)]))
    if (rows.length > 0) out.line(renderTable(['topic', 'partition', 'committed', 'end', 'lag'], rows, out).replace(/^/gm, '  '))
    out.line()
  }
  if (findings.length === 0) {
    out.line(out.paint('green', 'no findings: the cluster fits these clients'))
    return
  }
  out.line(out.paint('bold', `${findings.length} finding${findings.length === 1 ? '' : 's'}`))
  for (const f of findings) {
    out.line(`${out.paint(SEVERITY_STYLE[f.severity], f.severity.toUpperCase().padEnd(7))} ${out.paint('bold', f.subject)}: ${f.message}`)
    out.line(`        fix: ${f.fix.scope} ${out.paint('cyan', f.fix.setting)} = ${f.fix.value}`)
    if (f.fix.command !== undefined) out.line(out.paint('dim', `        ${f.fix.command}`))
  }
}

/** `kafkatune doctor`: checks a live cluster against what the preset's clients need. */
export function doctorCommand(): Command {
  return withConnectionFlags(
    new Command('doctor')
      .description('check a live cluster against what a preset needs: replication vs acks, min.insync.replicas, unclean election, message sizes, compression, transaction log, session timeouts, partitions vs members, under-replicated partitions, group lag')
      .option('-t, --topic <name>', 'a topic to check (repeatable; default: every non-internal topic)', collect, [] as string[])
      .option('-g, --group <id>', 'a consumer group to check (repeatable)', collect, [] as string[])
      .option('-p, --preset <name>', 'the preset your clients use (default: the Kafka client defaults)')
      .option('-s, --set <option=value...>', 'client overrides your code sets, as in explain (sessionTimeoutMs=30000, max.request.size=2097152)', collect, [] as string[])
      .option('--json', 'print one JSON document'),
  )
    .addHelpText('after', '\nEach finding has a severity (error, warning, info) and the exact setting to change.\n\nExit codes: 0 no error or warning, 1 a finding at error or warning (or Kafka unreachable), 2 usage or configuration error.')
    .action(async (flags: DoctorFlags) => {
      const out = createOutput({ json: flags.json === true })
      const plan = clientPlan(flags.preset, flags.set)
      const facts = await gather(flags, out)
      const bootstrap = connectionFrom(flags).brokers.join(',')
      // The rules write Kafka tool commands with a $BROKERS placeholder; show the cluster actually checked.
      const findings = [...facts.offline, ...diagnose(facts, plan)].map((f) => (f.fix.command === undefined ? f : { ...f, fix: { ...f.fix, command: f.fix.command.replaceAll('$BROKERS', bootstrap) } }))
      if (out.json) {
        out.emit({
          cluster: { clusterId: facts.clusterId, controller: facts.controller, brokers: facts.nodeIds },
          clients: plan,
          topics: facts.topics.map((t) => t.name),
          groups: facts.groups.map(({ group, lags }) => ({ ...group, lag: lags })),
          findings,
        })
      } else printHuman(out, facts, plan, findings)
      process.exitCode = doctorExitCode(findings)
    })
}
