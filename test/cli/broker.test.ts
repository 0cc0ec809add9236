/** `kafkatune broker`: a dev Kafka in the foreground, usable at once, gone (every JVM) after Ctrl-C. */
import { describe, expect, it } from 'vitest'
import { eventually, runCli, startCli } from './run-cli.js'

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe('kafkatune broker', () => {
  it('prints the bootstrap servers and nodes as JSON, serves clients, and stops every JVM on SIGINT', async () => {
    const c = startCli(['broker', '--json'], { KAFKATUNE_KAFKA_MODE: process.env.KAFKATUNE_KAFKA_MODE ?? 'local' })
    let info: { brokers: string[]; mode: string; nodes: { nodeId: number; address: string; pid: number | null }[]; env: { KAFKA_BROKERS: string } } | undefined
    try {
      await eventually(() => c.stdout().trim().endsWith('}') || c.child.exitCode !== null, 120_000, 'the broker ready')
      info = JSON.parse(c.stdout()) as NonNullable<typeof info>
      expect(info.brokers).toHaveLength(1)
      expect(info.brokers[0]).toMatch(/^127\.0\.0\.1:\d+$/)
      expect(info.env.KAFKA_BROKERS).toBe(info.brokers.join(','))
      const doctor = await runCli(['doctor', '--brokers', info.brokers.join(',')])
      expect(doctor.code, doctor.stderr).toBe(0)
      expect(doctor.stdout).toContain('1 broker')
    } finally {
      c.child.kill('SIGINT')
    }
    const r = await c.done
    expect(r.code).toBe(0)
    expect(r.stderr).toContain('SIGINT, stopping Kafka')
    expect(r.stderr).toContain('stopped')
    for (const n of info?.nodes ?? []) if (n.pid !== null) expect(alive(n.pid), `JVM ${n.pid}`).toBe(false)
  })

  it('rejects a node count the harness does not offer (exit 2)', async () => {
    const r = await runCli(['broker', '--nodes', '2'])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/Allowed choices are 1, 3/)
  })
})
