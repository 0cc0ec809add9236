import type { z } from 'zod'
import type { ConfigProblem } from '../errors.js'
import { CONSUMER_SETTINGS, JAVA_NAMES, PRODUCER_SETTINGS } from './settings/index.js'

function distance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0]!
    dp[0] = i
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j]!
      dp[j] = Math.min(dp[j]! + 1, dp[j - 1]! + 1, prev + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1))
      prev = tmp
    }
  }
  return dp[b.length]!
}

/** The known name closest to a mistyped one, if any is close. */
export function suggest(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined
  let bestD = Infinity
  for (const k of known) {
    const d = distance(name, k)
    if (d < bestD) {
      bestD = d
      best = k
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined
}

/**
 * The option names valid where an unknown key was found: one list for a flat object, or a list per path of a
 * nested one (a pipeline's `producer` and `consumer`).
 */
export type KnownOptions = readonly string[] | ((path: string) => readonly string[])

const PRODUCER_KEYS = Object.keys(PRODUCER_SETTINGS)
const CONSUMER_KEYS = Object.keys(CONSUMER_SETTINGS)

/** Known names inside a `producer: {...}` or `consumer: {...}` (of a preset or a pipeline) are that side's options; elsewhere `top`. */
export function bySide(top: readonly string[]): (path: string) => readonly string[] {
  return (path) => (path === 'producer' ? PRODUCER_KEYS : path === 'consumer' ? CONSUMER_KEYS : top)
}

/** The option a mistyped or Java-spelt name stands for, among those valid there. */
function hintFor(key: string, known: readonly string[]): string | undefined {
  const java = JAVA_NAMES[key]
  // A Java name of the other side (key.serializer in a consumer) is still best answered by spelling.
  return java !== undefined && known.includes(java) ? java : suggest(key, known)
}

/** A required option that was not given, said plainly (zod says "Invalid input: expected string, received undefined"). */
function missing(issue: z.core.$ZodIssue): string | undefined {
  if (issue.code !== 'invalid_type' || !/received undefined$/.test(issue.message)) return undefined
  return `required: not given (expected ${/^[aeiou]/.test(issue.expected) ? 'an' : 'a'} ${issue.expected})`
}

/** Every zod issue as a problem naming the option, what was expected, and a fix. */
export function zodProblems(error: z.ZodError, known: KnownOptions, prefix = ''): ConfigProblem[] {
  const problems: ConfigProblem[] = []
  for (const issue of error.issues) {
    const at = issue.path.map(String).join('.')
    const path = prefix + at
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const option = path ? `${path}.${key}` : key
        const hint = hintFor(key, typeof known === 'function' ? known(at) : known)
        problems.push({
          option,
          message: `unknown option '${key}'${hint ? `: did you mean '${hint}'?` : ''}`,
        })
      }
      continue
    }
    problems.push({ option: path || '(options)', message: missing(issue) ?? issue.message })
  }
  return problems
}
