import { createServer } from 'node:net'
import type { AddressInfo, Server } from 'node:net'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const url = pathToFileURL(fileURLToPath(new URL('../../bench/peers/broker-cpu.mjs', import.meta.url))).href
const { brokerPids, brokerCpuReader } = (await import(url)) as {
  brokerPids(brokers: string[]): number[]
  brokerCpuReader(brokers: string[]): (() => number) | null
}

// A listener in this process stands in for a local broker: the lookup goes by listening port, whatever listens.
let server: Server
let port: number
beforeAll(async () => {
  server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  port = (server.address() as AddressInfo).port
})
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()))
})

describe('the broker CPU of the peers benchmark', () => {
  it('finds the process listening on a broker port, and only it', () => {
    expect(brokerPids([`127.0.0.1:${port}`])).toEqual([process.pid])
  })

  it('reads that process CPU seconds, which grow as it works', () => {
    const read = brokerCpuReader([`127.0.0.1:${port}`])
    expect(read).not.toBeNull()
    const before = read!()
    const until = process.cpuUsage().user + 300_000
    let x = 0
    while (process.cpuUsage().user < until) x += Math.sqrt(x + 1)
    expect(x).toBeGreaterThan(0)
    expect(read!() - before).toBeGreaterThanOrEqual(0.2)
  })

  it('is null when nothing listens on the port', async () => {
    const other = createServer()
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve))
    const free = (other.address() as AddressInfo).port
    await new Promise<void>((resolve) => other.close(() => resolve()))
    expect(brokerCpuReader([`127.0.0.1:${free}`])).toBeNull()
  })
})
