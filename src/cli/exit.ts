import { ConfigError, isKafkatuneError } from '../index.js'

/**
 * The command's exit codes: scripts branch on them, so they never change meaning.
 * 0 ok; 1 failure (Kafka unreachable or failing, doctor found a problem); 2 usage or validation error
 * (unknown option, bad `--set`, unknown preset, invalid configuration).
 */
export const EXIT = Object.freeze({ OK: 0, FAILURE: 1, USAGE: 2 })

/** A mistake in how the command was called: reported without a stack trace, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'UsageError'
  }
}

/** The exit code an error stands for. */
export function exitCodeOf(err: unknown): number {
  if (err instanceof UsageError) return EXIT.USAGE
  if (err instanceof ConfigError || isKafkatuneError(err, 'CONFIG_INVALID')) return EXIT.USAGE
  return EXIT.FAILURE
}

/** One readable message for an error, its cause chain included (messages never hold secrets). */
export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err)
  const parts = [err.message]
  let cause: unknown = err.cause
  for (let i = 0; i < 3 && cause instanceof Error; i++) {
    if (!parts.some((p) => p.includes(cause instanceof Error ? cause.message : ''))) parts.push(`caused by: ${cause.message}`)
    cause = cause.cause
  }
  return parts.join('\n  ')
}
