/**
 * Options a pipeline cannot honour are refused, with the reason the settings table gives (each tuning option
 * says there whether a pipeline applies it or refuses it), instead of being accepted silently.
 */
import type { ConfigProblem } from '../errors.js'
import { PIPELINE_CONSUMER_REJECTED, PIPELINE_PRODUCER_REJECTED } from './settings/index.js'

export { PIPELINE_CONSUMER_APPLIED, PIPELINE_CONSUMER_REJECTED, PIPELINE_PRODUCER_APPLIED, PIPELINE_PRODUCER_REJECTED } from './settings/index.js'

/** Problems for options the user gave that a pipeline would not apply (preset values are left alone). */
export function pipelineOptionProblems(producer: Record<string, unknown> | undefined, consumer: Record<string, unknown> | undefined): ConfigProblem[] {
  const problems: ConfigProblem[] = []
  const sides = [
    ['producer', producer, PIPELINE_PRODUCER_REJECTED],
    ['consumer', consumer, PIPELINE_CONSUMER_REJECTED],
  ] as const
  for (const [side, given, rejected] of sides) {
    for (const [key, why] of Object.entries(rejected)) {
      if (given?.[key] !== undefined) problems.push({ option: `${side}.${key}`, message: `not used by a pipeline: ${why}` })
    }
  }
  if (consumer?.autoOffsetReset === 'none') {
    problems.push({ option: 'consumer.autoOffsetReset', message: "'none' is not supported by a pipeline yet; use 'earliest' or 'latest'" })
  }
  return problems
}
