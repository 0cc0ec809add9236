// The main job: start (or reuse) a real Kafka, then measure what each preset promises with the
// `kafkatune bench` command: latency at a fixed offered rate (low-latency's promise), throughput from a
// burst (high-throughput's), and what exactly-once's guarantees cost. `npm run demo` builds first.
// Env: KAFKA_BROKERS to use your own cluster; DEMO_SECONDS (default 10) per preset; DEMO_RATE (default 1000).
// A just-started broker is still warming up (JIT, first segments): 5 s of untimed traffic go first.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { startKafka } from 'kafkatune/testing'

const seconds = process.env.DEMO_SECONDS ?? '10'
const rate = process.env.DEMO_RATE ?? '1000'
const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url))

const kafka = await startKafka()
console.error(`Kafka (${kafka.mode}) at ${kafka.brokers.join(',')}`)
console.error(`Each preset: ${Number(seconds) / 2} s of 100 B records offered at ${rate} records/s (latency), then a burst (throughput).\n`)

// Ctrl-C reaches the bench too (same terminal): it deletes its topics and exits; then Kafka stops.
let interrupted = false
const onSignal = () => {
  interrupted = true
}
process.on('SIGINT', onSignal)
process.on('SIGTERM', onSignal)
let code = 1
try {
  const bench = spawn(process.execPath, [cli, 'bench', '--brokers', kafka.brokers.join(','), '--seconds', seconds, '--rate', rate, '--warmup', '5', '--goal', 'latency'], {
    stdio: 'inherit',
  })
  code = await new Promise((resolve) => bench.on('exit', (c, signal) => resolve(c ?? (signal ? 130 : 1))))
} finally {
  await kafka.stop()
}
process.exit(interrupted ? 130 : code)
