import { spawnSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { CLI, runCli } from './run-cli.js'

interface Row {
  option: string
  javaProperty: string | null
  value: unknown
  source: string
  reason: string
}

describe('kafkatune explain', () => {
  it('prints the producer table with sources and reasons, --set overriding the preset', async () => {
    const r = await runCli(['explain', 'producer', '--preset', 'high-throughput', '--set', 'lingerMs=50'])
    expect(r.code).toBe(0)
    const lines = r.stdout.trim().split('\n')
    expect(lines[0]).toMatch(/^option\s+java property\s+value\s+source\s+reason$/)
    expect(lines.find((l) => l.startsWith('lingerMs '))).toMatch(/linger\.ms\s+50\s+option\s+set explicitly/)
    expect(lines.find((l) => l.startsWith('compression '))).toMatch(/compression\.type\s+lz4\s+preset\s+lz4:/)
    expect(lines.find((l) => l.startsWith('retries '))).toMatch(/2147483647\s+default/)
    // Not a TTY: no escape codes.
    expect(r.stdout).not.toContain('\x1b[')
  })

  it('--json gives the rows; Java property names and JSON values are accepted', async () => {
    const r = await runCli(['explain', 'consumer', '--json', '--set', 'session.timeout.ms=30000', 'heartbeatIntervalMs=10000', 'commit={"strategy":"batch","size":10}'])
    expect(r.code).toBe(0)
    const doc = JSON.parse(r.stdout) as { kind: string; rows: Row[] }
    expect(doc.kind).toBe('consumer')
    const by = new Map(doc.rows.map((row) => [row.option, row]))
    expect(by.get('sessionTimeoutMs')).toMatchObject({ value: 30000, source: 'option', javaProperty: 'session.timeout.ms' })
    expect(by.get('commit')).toMatchObject({ value: { strategy: 'batch', size: 10 }, source: 'option' })
    expect(by.get('autoOffsetReset')).toMatchObject({ value: 'latest', source: 'default' })
  })

  it('explains an exactly-once producer and a pipeline (both sides, exactly-once by default)', async () => {
    const p = await runCli(['explain', 'producer', '--preset', 'exactly-once', '--json'])
    expect(p.code).toBe(0)
    const rows = (JSON.parse(p.stdout) as { rows: Row[] }).rows
    expect(rows.find((r) => r.option === 'acks')?.value).toBe('all')
    const pipe = await runCli(['explain', 'pipeline', '--json', '--set', 'producer.compression=zstd', 'fetchMaxWaitMs=100'])
    expect(pipe.code).toBe(0)
    const doc = JSON.parse(pipe.stdout) as { preset: string; rows: Row[] }
    expect(doc.preset).toBe('exactly-once')
    expect(doc.rows.find((r) => r.option === 'producer.compression')).toMatchObject({ value: 'zstd', source: 'option' })
    expect(doc.rows.find((r) => r.option === 'consumer.fetchMaxWaitMs')).toMatchObject({ value: 100, source: 'option' })
    expect(doc.rows.find((r) => r.option === 'consumer.isolationLevel')).toMatchObject({ value: 'read_committed', source: 'preset' })
  })

  it('exit 2 with every problem listed for an invalid configuration', async () => {
    const r = await runCli(['explain', 'producer', '--set', 'acks=1', 'idempotent=true', 'lingerMs=-3'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('Invalid producer configuration (2 problems)')
    expect(r.stderr).toMatch(/lingerMs/)
    expect(r.stderr).toMatch(/idempotence needs acks 'all'/)
    expect(r.stdout).toBe('')
  })

  it.each([
    [['explain', 'producer', '--preset', 'turbo'], /unknown preset 'turbo'/],
    [['explain', 'producer', '--set', 'lingerMs'], /--set expects option=value/],
    [['explain', 'producer', '--set', 'lingerMs=fast'], /lingerMs: .*expected number/],
    [['explain', 'producer', '--set', 'lingerMS=5'], /unknown option 'lingerMS': did you mean 'lingerMs'/],
    [['explain', 'producer', '--set', 'commit={"strategy":'], /looks like JSON but does not parse/],
    [['explain', 'gateway'], /invalid for argument 'kind'/],
    [['explain', 'producer', '--no-such-flag'], /unknown option '--no-such-flag'/],
    [['bench', '--size', '0', '--brokers', '127.0.0.1:9'], /--size expects a positive integer/],
    [['bench', '--commit-interval', '0', '--brokers', '127.0.0.1:9'], /--commit-interval expects a positive integer/],
    [['tail', 'orders'], /no brokers: pass --brokers/],
    [['nosuch'], /unknown command 'nosuch'/],
  ])('exit 2 on a usage or validation error: %j', async (args, message) => {
    const r = await runCli(args)
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(message)
  })

  it('colour only on a terminal (script(1) gives the command a pty), and never with NO_COLOR', () => {
    const onTty = (env: Record<string, string | undefined>) =>
      spawnSync('script', ['-qec', `${process.execPath} ${CLI} explain producer --preset low-latency`, '/dev/null'], { encoding: 'utf8', env: { ...process.env, NO_COLOR: undefined, FORCE_COLOR: undefined, ...env } })
    const tty = onTty({})
    expect(tty.status).toBe(0)
    expect(tty.stdout).toContain('\x1b[32m1\x1b[39m')
    const plain = onTty({ NO_COLOR: '1' })
    expect(plain.stdout).toContain('acks')
    expect(plain.stdout).not.toContain('\x1b[')
  })

  it('--help on every command, exit 0', async () => {
    for (const cmd of [[], ['explain'], ['doctor'], ['bench'], ['broker'], ['tail']]) {
      const r = await runCli([...cmd, '--help'])
      expect(r.code, cmd.join(' ')).toBe(0)
      expect(r.stdout).toMatch(/^Usage: kafkatune/)
      expect(r.stdout).toMatch(/Exit codes?/)
    }
  })
})
