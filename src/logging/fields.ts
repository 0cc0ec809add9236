/**
 * The fields every kafkatune log line carries, named the same way everywhere: `component`, `clientId`, and
 * `groupId` for consumers and pipelines (lines about one partition add `topic` and `partition` themselves).
 */
import type { Logger } from './types.js'

/** The bindings of a client's logger. */
export interface ClientLogFields {
  clientId: string
  groupId?: string
}

/** The child logger of one client: `component` is `kafkatune.<kind>` (or `kafkajs` for kafkajs's own lines). */
export function clientLogger(root: Logger, component: 'producer' | 'consumer' | 'pipeline' | 'admin' | 'kafkajs', fields: ClientLogFields): Logger {
  return root.child({
    component: component === 'kafkajs' ? 'kafkajs' : `kafkatune.${component}`,
    clientId: fields.clientId,
    ...(fields.groupId !== undefined ? { groupId: fields.groupId } : {}),
  })
}
