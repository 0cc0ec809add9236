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

/** Reads what the checks need: cluster, one broker's settings, the topics, the groups and their lag. */
async function gather(flags: DoctorFlags, out: Output): Promise<ClusterFacts & { clusterId: string; controller: number | null; nodeIds: number[] }> {
  const conn = connectionFrom(flags)
  await probeCluster(conn, flags.timeout)
  const admin = createAdmin(conn)
  try {
    out.progress('reading cluster...')
    const cluster = await admin.describeCluster()
    const nodeId = cluster.controller ?? cluster.brokers[0]?.nodeId ?? 1
    const broker = await admin.describeBroker(cluster.brokers.some((b) => b.nodeId === nodeId) ? nodeId : (cluster.brokers[0]?.nodeId ?? nodeId))
    const existing = await admin.listTopics()
    const names = flags.topic.length > 0 ? flags.topic : existing.filter((t) => !t.startsWith('__'))
    const missing = names.filter((t) => !existing.includes(t))
    if (missing.length > 0) throw new Error(`topic(s) not found: ${missing.join(', ')}`)
    const topics = []
    for (const name of names) {
      out.progress(`reading topic ${name}...`)
      topics.push(await admin.describeTopic(name))
    }
    const groups = []
    for (const groupId of flags.group) {
      out.progress(`reading group ${groupId}...`)
      const group = await admin.describeGroup(groupId)
      const lags: TopicLag[] = []
      for (const t of names) {
        const lag = await admin.lag({ groupId, topic: t })
        // Without --topic, only topics the group has committed on are its topics.
        if (flags.topic.length > 0 || lag.partitions.some((p) => p.committed !== null)) lags.push(lag)
      }
      groups.push({ group, lags })
    }
    out.endProgress()
    return { clusterId: cluster.clusterId, controller: cluster.controller, nodeIds: cluster.brokers.map((b) => b.nodeId), brokerCount: cluster.brokers.length, broker, topics, groups }
  } finally {
    out.endProgress()
    await admin.disconnect()
  }
}

const SEVERITY_STYLE = { error: 'red', warning: 'yellow', info: 'cyan' } as const

function printHuman(out: Output, facts: Awaited<ReturnType<typeof gather>>, plan: ClientPlan, findings: readonly Finding[]): void {
  out.line(`${out.paint('bold', 'cluster')} ${facts.clusterId}: ${facts.brokerCount} broker${facts.brokerCount === 1 ? '' : 's'} (${facts.nodeIds.join(', ')}), controller ${facts.controller ?? '-'}`)
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
      const findings = diagnose(facts, plan).map((f) => (f.fix.command === undefined ? f : { ...f, fix: { ...f.fix, command: f.fix.command.replaceAll('$BROKERS', bootstrap) } }))
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
