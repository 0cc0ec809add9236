/** Runs Kafka's Java tools (console producer/consumer) from the harness jars, for golden tests. */
import { spawn } from 'node:child_process'
import { ensureKafkaJars, javaExecutable } from '../../src/testing/jars.js'

/** Runs `mainClass` with the Kafka jars on the class path; resolves with stdout, rejects with the stderr tail. */
export async function runJava(mainClass: string, args: string[], stdin = ''): Promise<string> {
  const libs = await ensureKafkaJars()
  return await new Promise((resolve, reject) => {
    const child = spawn(javaExecutable(), ['-Xmx256m', '-XX:TieredStopAtLevel=1', '-cp', `${libs}/*`, mainClass, ...args], { stdio: ['pipe', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')))
    child.stderr.on('data', (c: Buffer) => (err = (err + c.toString('utf8')).slice(-4000)))
    child.on('error', reject)
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${mainClass} exited ${code}:\n${err}`))))
    child.stdin.end(stdin)
  })
}
