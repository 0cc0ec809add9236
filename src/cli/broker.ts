import { Command, Option } from 'commander'
import { startKafka } from '../testing/index.js'
import type { KafkaHandle } from '../testing/index.js'
import { EXIT } from './exit.js'
import { createOutput } from './output.js'
import { untilSignal } from './signals.js'

interface BrokerFlags {
  nodes: '1' | '3'
  mode: 'auto' | 'local' | 'container' | 'external'
  json?: boolean
}

/** `kafkatune broker`: the testing harness's Kafka in the foreground until Ctrl-C. */
export function brokerCommand(): Command {
  return new Command('broker')
    .description('start a local development Kafka (KRaft) in the foreground; Ctrl-C stops it and removes its data')
    .addOption(new Option('-n, --nodes <count>', 'broker nodes (3: replication factor 3, min.insync.replicas 2)').choices(['1', '3']).default('1'))
    .addOption(
      new Option('-m, --mode <mode>', 'local: Apache Kafka jars run with Java 17+; container: Testcontainers; auto: container when a runtime answers, else local')
        .choices(['auto', 'local', 'container'])
        .default('local'),
    )
    .option('--json', 'print the connection details as one JSON document once the broker is ready')
    .addHelpText('after', '\nThe first line on stdout (without --json) is the bootstrap list, so KAFKA_BROKERS=$(kafkatune broker | head -1) works.\nEnv KAFKATUNE_KAFKA_MODE overrides --mode.\n\nExit codes: 0 stopped cleanly, 1 the broker could not start.')
    .action(async (flags: BrokerFlags) => {
      const out = createOutput({ json: flags.json === true })
      const started = Date.now()
      // A Ctrl-C while the JVMs boot must still stop them: remember it and stop once startKafka returns.
      const signal = untilSignal()
      out.note(`kafkatune: starting Kafka (${flags.nodes} node${flags.nodes === '1' ? '' : 's'}, mode ${process.env.KAFKATUNE_KAFKA_MODE || flags.mode})...`)
      let kafka: KafkaHandle
      try {
        kafka = await startKafka({ nodes: flags.nodes === '3' ? 3 : 1, mode: flags.mode })
      } catch (err) {
        signal.dispose()
        throw err
      }
      const seconds = ((Date.now() - started) / 1000).toFixed(1)
      const info = {
        brokers: kafka.brokers,
        mode: kafka.mode,
        nodes: kafka.nodes.map((n) => ({ nodeId: n.nodeId, address: n.brokerAddress, pid: n.pid ?? null })),
        connection: { brokers: kafka.brokers },
        env: { KAFKA_BROKERS: kafka.brokers.join(',') },
      }
      if (out.json) out.emit(info)
      else {
        out.line(kafka.brokers.join(','))
        out.line()
        out.line(`${out.paint('green', 'Kafka is ready')} (${kafka.mode}, ${kafka.nodes.length} node${kafka.nodes.length === 1 ? '' : 's'}) in ${seconds} s`)
        for (const n of kafka.nodes) out.line(`  node ${n.nodeId}  ${n.brokerAddress}  pid ${n.pid ?? '-'}`)
        out.line()
        out.line('Connect with:')
        out.line(`  export KAFKA_BROKERS=${kafka.brokers.join(',')}`)
        out.line(`  createProducer({ brokers: ${JSON.stringify(kafka.brokers)} })`)
        out.line(`  kafkatune doctor --brokers ${kafka.brokers.join(',')}`)
        out.line()
        out.line(out.paint('dim', 'Press Ctrl-C to stop.'))
      }
      const which = await signal.done
      out.note(`kafkatune: ${which}, stopping Kafka...`)
      try {
        await kafka.stop()
      } finally {
        signal.dispose()
      }
      out.note('kafkatune: stopped')
      process.exitCode = EXIT.OK
    })
}
