import type { BuiltinPresetName, Preset } from '../src/config/types.js'
import { exactlyOnce } from './exactly-once.js'
import { highThroughput } from './high-throughput.js'
import { lowLatency } from './low-latency.js'

/** The built-in presets by name. */
export const presets: Readonly<Record<BuiltinPresetName, Preset>> = Object.freeze({
  'low-latency': lowLatency,
  'high-throughput': highThroughput,
  'exactly-once': exactlyOnce,
})
