import type { z } from 'zod'
import type { ConfigProblem } from '../errors.js'
import { JAVA_NAMES } from './settings/index.js'

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

/** Every zod issue as a problem naming the option, what was expected, and a fix. */
export function zodProblems(error: z.ZodError, known: readonly string[], prefix = ''): ConfigProblem[] {
  const problems: ConfigProblem[] = []
  for (const issue of error.issues) {
    const path = prefix + issue.path.map(String).join('.')
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const option = path ? `${path}.${key}` : key
        const hint = JAVA_NAMES[key] ?? suggest(key, known)
        problems.push({
          option,
          message: `unknown option '${key}'${hint ? `: did you mean '${hint}'?` : ''}`,
        })
      }
      continue
    }
    problems.push({ option: path || '(options)', message: issue.message })
  }
  return problems
}
