/** The options every factory takes to reach the cluster. */
import { z } from 'zod'
import type { ConnectionOptions } from '../types.js'
import { saslProblem } from '../sasl.js'
import { isLogger } from '../../logging/types.js'
import type { SettingsOf } from './setting.js'

const NO_DEFAULT = 'required: there is no default'

export const CONNECTION_SETTINGS = {
  brokers: {
    schema: z
      .array(z.string().regex(/^[^\s:]+:\d{1,5}$/, 'must be host:port'), { error: (issue) => (issue.input === undefined ? "required: the bootstrap servers as host:port strings, e.g. ['127.0.0.1:9092']" : 'must be an array of host:port strings') })
      .min(1, 'needs at least one broker'),
    default: undefined,
    java: 'bootstrap.servers',
    reason: NO_DEFAULT,
    kafkajs: [{ to: 'client', option: 'brokers' }],
  },
  clientId: {
    schema: z.string().min(1),
    default: 'kafkatune',
    java: 'client.id',
    reason: "Java numbers its clients (producer-1, consumer-g-1); kafkatune names them 'kafkatune'",
    kafkajs: [{ to: 'client', option: 'clientId' }],
  },
  ssl: {
    schema: z.union([z.boolean(), z.object({}).passthrough()], { message: 'must be true/false or tls.ConnectionOptions ({ ca, cert, key, ... })' }) as z.ZodType<
      NonNullable<ConnectionOptions['ssl']>
    >,
    default: undefined,
    java: 'security.protocol',
    reason: 'plaintext unless TLS is asked for',
    kafkajs: [{ to: 'client', option: 'ssl' }],
  },
  sasl: {
    schema: z.unknown().superRefine((value, ctx) => {
      const problem = saslProblem(value)
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem })
    }) as z.ZodType<NonNullable<ConnectionOptions['sasl']>>,
    default: undefined,
    java: 'sasl.mechanism',
    reason: 'no SASL unless a mechanism is given',
    kafkajs: [{ to: 'client', option: 'sasl' }],
  },
  logger: {
    schema: z.custom<NonNullable<ConnectionOptions['logger']>>((v) => isLogger(v), {
      message: "must be a logger with pino's methods (trace, debug, info, warn, error, fatal, child): pino, or loggers.console() / loggers.winston()",
    }),
    default: undefined,
    java: { none: 'the Java client logs through SLF4J, configured outside the client' },
    reason: 'a pino logger at warn on stderr (KAFKATUNE_LOG_LEVEL changes the level)',
    kafkajs: [{ to: 'client', option: 'logCreator' }],
  },
  kafkajs: {
    schema: z.object({}).passthrough() as z.ZodType<NonNullable<ConnectionOptions['kafkajs']>>,
    default: undefined,
    java: { none: 'an escape hatch into kafkajs, which Java does not have' },
    reason: 'nothing is merged into the kafkajs client config unless given',
  },
} satisfies SettingsOf<ConnectionOptions>

export const PRESET = {
  // Anything here: resolvePreset checks names and preset objects (once, with a message that helps).
  schema: z.unknown(),
  default: undefined,
  java: { none: 'presets are kafkatune bundles of Java properties' },
  reason: 'the Java client defaults unless a preset is named',
}
