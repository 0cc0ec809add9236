import { Argument, Command } from 'commander'
import { ConfigError, explainConfig, presets } from '../index.js'
import type { ConsumerOptions, ExplainRow, PresetRef, ProducerOptions } from '../index.js'
import { EXIT, UsageError } from './exit.js'
import { cell, createOutput, renderTable } from './output.js'
import type { Output } from './output.js'
import { parseSets, setsToOptions } from './set-values.js'
import type { SetEntry } from './set-values.js'

const PLACEHOLDER_BROKERS = ['127.0.0.1:9092']
const TXN_PLACEHOLDER = '<transactional-id>'

/** A preset name from the command line, refused (exit 2) when it is not a built-in one. */
export function presetArg(name: string | undefined): PresetRef | undefined {
  if (name === undefined) return undefined
  if (!Object.hasOwn(presets, name)) {
    throw new ConfigError([{ option: 'preset', message: `unknown preset '${name}': use one of ${Object.keys(presets).join(', ')}` }], '--preset')
  }
  return name as PresetRef
}

function needsTxnId(preset: PresetRef | undefined): boolean {
  return preset !== undefined && typeof preset === 'string' && presets[preset].requiresTransactionalId === true
}

/** Rows for one side; an exactly-once producer gets a placeholder transactionalId so its table can be shown. */
function sideRows(kind: 'producer' | 'consumer', preset: PresetRef | undefined, sets: Record<string, unknown>): ExplainRow[] {
  if (kind === 'producer') {
    const txn = needsTxnId(preset) && sets.transactionalId === undefined ? { transactionalId: TXN_PLACEHOLDER } : {}
    // The flags are checked by explainConfig itself (it throws the same ConfigError as the factories).
    return explainConfig('producer', { brokers: PLACEHOLDER_BROKERS, ...(preset === undefined ? {} : { preset }), ...txn, ...sets } as ProducerOptions)
  }
  return explainConfig('consumer', { brokers: PLACEHOLDER_BROKERS, groupId: '<group-id>', topics: ['<topic>'], ...(preset === undefined ? {} : { preset }), ...sets } as ConsumerOptions)
}

/** The effective settings of a producer, consumer or pipeline (both sides, default preset exactly-once). */
export function explainRows(kind: 'producer' | 'consumer' | 'pipeline', preset: PresetRef | undefined, entries: readonly SetEntry[]): ExplainRow[] {
  if (kind !== 'pipeline') {
    const stray = entries.find((e) => e.side !== undefined && e.side !== kind)
    if (stray !== undefined) throw new UsageError(`--set ${stray.side}.${stray.option}: this is a ${kind} table`)
    return sideRows(kind, preset, setsToOptions(entries))
  }
  const effective = preset ?? 'exactly-once'
  const producerKeys = new Set(explainConfig('producer', { brokers: PLACEHOLDER_BROKERS }).map((r) => r.option))
  const consumerKeys = new Set(explainConfig('consumer', { brokers: PLACEHOLDER_BROKERS, groupId: 'g', topics: ['t'] }).map((r) => r.option))
  const producerSets: SetEntry[] = []
  const consumerSets: SetEntry[] = []
  for (const e of entries) {
    const side = e.side ?? (producerKeys.has(e.option) ? 'producer' : consumerKeys.has(e.option) ? 'consumer' : undefined)
    if (side === undefined) {
      throw new ConfigError([{ option: e.option, message: `unknown option '${e.option}' for a pipeline: prefix it with producer. or consumer.` }], 'pipeline --set')
    }
    ;(side === 'producer' ? producerSets : consumerSets).push(e)
  }
  const problems: { option: string; message: string }[] = []
  const collect = (side: 'producer' | 'consumer', fn: () => ExplainRow[]): ExplainRow[] => {
    try {
      return fn().map((r) => ({ ...r, option: `${side}.${r.option}` }))
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err
      problems.push(...err.problems.map((p) => ({ option: `${side}.${p.option}`, message: p.message })))
      return []
    }
  }
  const rows = [
    ...collect('producer', () => sideRows('producer', effective, setsToOptions(producerSets))),
    ...collect('consumer', () => sideRows('consumer', effective, setsToOptions(consumerSets))),
  ]
  if (problems.length > 0) throw new ConfigError(problems, 'pipeline configuration')
  return rows
}

function print(out: Output, kind: string, preset: PresetRef | undefined, rows: readonly ExplainRow[]): void {
  if (out.json) {
    out.emit({ kind, preset: preset ?? (kind === 'pipeline' ? 'exactly-once' : null), rows })
    return
  }
  const colour = (source: string, text: string) => (source === 'option' ? out.paint('cyan', text) : source === 'preset' ? out.paint('green', text) : text)
  const body = rows.map((r) => [r.option, r.javaProperty ?? '-', colour(r.source, cell(r.value)), r.source, out.paint('dim', r.reason)])
  out.line(renderTable(['option', 'java property', 'value', 'source', 'reason'], body, out))
}

/** `kafkatune explain producer|consumer|pipeline`. */
export function explainCommand(): Command {
  return new Command('explain')
    .description('print the effective settings (option, Java property, value, source, reason) for a preset and overrides; no connection is opened')
    .addArgument(new Argument('<kind>', 'which settings table').choices(['producer', 'consumer', 'pipeline']))
    .option('-p, --preset <name>', `a built-in preset: ${Object.keys(presets).join(', ')} (pipeline default: exactly-once)`)
    .option('-s, --set <option=value...>', 'override an option; kafkatune or Java names (lingerMs=50, linger.ms=50); values parse as numbers, booleans or JSON', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--json', 'print one JSON document')
    .addHelpText('after', '\nExamples:\n  kafkatune explain producer --preset high-throughput --set lingerMs=50\n  kafkatune explain consumer --set session.timeout.ms=30000 --json\n  kafkatune explain pipeline --set producer.compression=zstd\n\nExit codes: 0 ok, 2 invalid configuration (every problem is listed).')
    .action((kind: 'producer' | 'consumer' | 'pipeline', flags: { preset?: string; set: string[]; json?: boolean }) => {
      const out = createOutput({ json: flags.json === true })
      const preset = presetArg(flags.preset)
      const rows = explainRows(kind, preset, parseSets(flags.set))
      print(out, kind, preset, rows)
      process.exitCode = EXIT.OK
    })
}
