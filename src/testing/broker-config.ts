/**
 * `startKafka({ brokerConfig })`: broker settings (server.properties) over the harness defaults, checked
 * before anything starts, merged into the node's broker plan (broker-plan.ts).
 */
import { ConfigError } from '../errors.js'
import type { ConfigProblem } from '../errors.js'

/** Settings the harness owns (identity, listeners, quorum, storage): changing them would break its control. */
export const HARNESS_OWNED_PROPERTIES: ReadonlySet<string> = new Set([
  'process.roles',
  'node.id',
  'controller.quorum.voters',
  'controller.quorum.bootstrap.servers',
  'listeners',
  'advertised.listeners',
  'controller.listener.names',
  'inter.broker.listener.name',
  'listener.security.protocol.map',
  'log.dirs',
  'log.dir',
])

const NAME = /^[a-z][a-z0-9]*([._-][a-z0-9]+)*$/

/** Validates `brokerConfig` (all problems at once) and returns it as strings. */
export function checkBrokerConfig(config: Readonly<Record<string, string | number | boolean>> | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  if (config === undefined) return out
  const problems: ConfigProblem[] = []
  for (const [name, value] of Object.entries(config)) {
    const option = `brokerConfig['${name}']`
    if (!NAME.test(name)) {
      problems.push({ option, message: 'is not a broker property name (lower case, dot separated, e.g. log.retention.ms)' })
    } else if (HARNESS_OWNED_PROPERTIES.has(name)) {
      problems.push({ option, message: 'is set by the harness (node identity, listeners, quorum, storage) and cannot be overridden' })
    } else if (typeof value === 'number' ? !Number.isFinite(value) : typeof value !== 'string' && typeof value !== 'boolean') {
      problems.push({ option, message: 'must be a string, a finite number or a boolean' })
    } else if (typeof value === 'string' && /[\r\n]/.test(value)) {
      problems.push({ option, message: 'must be a single line' })
    } else {
      out[name] = String(value)
    }
  }
  if (problems.length > 0) throw new ConfigError(problems, 'startKafka() brokerConfig')
  return out
}

/** A broker property as the `KAFKA_*` variable the official image's wrapper turns back into it. */
export function brokerConfigVariable(name: string): string {
  return `KAFKA_${name.replace(/_/g, '__').replace(/-/g, '___').replace(/\./g, '_').toUpperCase()}`
}
