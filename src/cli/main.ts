#!/usr/bin/env node
/**
 * `kafkatune`: the command. One file per subcommand; this one wires them up and turns errors into
 * messages and exit codes (see exit.ts). It uses only the public library API.
 */
import { Command, CommanderError } from 'commander'
import { benchCommand } from './bench.js'
import { brokerCommand } from './broker.js'
import { doctorCommand } from './doctor.js'
import { describeError, exitCodeOf, EXIT } from './exit.js'
import { explainCommand } from './explain.js'
import { tailCommand } from './tail.js'
import { CLI_VERSION } from './version.js'

function program(): Command {
  const root = new Command('kafkatune')
    .description('Tuned Kafka producers and consumers: explain settings, check a cluster, benchmark presets, run a dev broker, tail a topic.')
    .version(CLI_VERSION, '-V, --version')
    .showHelpAfterError('(add --help for usage)')
    .addHelpText('after', '\nExit codes: 0 ok, 1 failure (Kafka unreachable or failing, doctor found a problem), 2 usage or configuration error.')
  for (const cmd of [explainCommand(), doctorCommand(), benchCommand(), brokerCommand(), tailCommand()]) root.addCommand(cmd)
  // Every command (and the root) raises instead of exiting, so one place decides the exit code.
  const override = (c: Command) => {
    c.exitOverride()
    c.showHelpAfterError('(add --help for usage)')
    for (const sub of c.commands) override(sub)
  }
  override(root)
  return root
}

// `kafkatune tail t | head -3`: the reader went away; that ends the command quietly, like other Unix tools.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(EXIT.OK)
  throw err
})

async function main(argv: string[]): Promise<void> {
  try {
    await program().parseAsync(argv)
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version exit 0; a usage error (already printed by commander) exits 2.
      process.exitCode = err.exitCode === 0 ? EXIT.OK : EXIT.USAGE
      return
    }
    process.stderr.write(`kafkatune: ${describeError(err)}\n`)
    process.exitCode = exitCodeOf(err)
  }
}

await main(process.argv)
// Clients that failed to connect may leave sockets and timers behind; the command's work is done.
process.exit(process.exitCode ?? EXIT.OK)
