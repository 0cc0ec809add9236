/**
 * containerRuntimeAvailable() answers false, and does not leave the process hanging, when DOCKER_HOST names an
 * endpoint that accepts connections and never answers; container mode then fails with one HARNESS error.
 * Needs no container runtime.
 */
import { createServer } from 'node:net'
import type { Server, Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isKafkatuneError } from '../../src/errors.js'
import { containerRuntimeAvailable, startContainerKafka } from '../../src/testing/container.js'

describe('container runtime detection', () => {
  let server: Server
  const sockets = new Set<Socket>()
  const saved = process.env.DOCKER_HOST

  beforeAll(async () => {
    server = createServer((socket) => {
      sockets.add(socket) // accept, never answer
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const address = server.address()
    const port = typeof address === 'object' && address !== null ? address.port : 0
    process.env.DOCKER_HOST = `tcp://127.0.0.1:${port}`
  })
  afterAll(async () => {
    if (saved === undefined) delete process.env.DOCKER_HOST
    else process.env.DOCKER_HOST = saved
    for (const s of sockets) s.destroy()
    await new Promise((resolve) => server.close(resolve))
  })

  it('is false for a DOCKER_HOST that never answers, and asks only once', async () => {
    const first = containerRuntimeAvailable()
    expect(containerRuntimeAvailable()).toBe(first)
    await expect(first).resolves.toBe(false)
    expect(sockets.size).toBeGreaterThan(0)
  })

  it('container mode then fails with a HARNESS error that says how to get a runtime', async () => {
    const err = await startContainerKafka({ nodes: 1 }).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(isKafkatuneError(err, 'HARNESS')).toBe(true)
    expect((err as Error).message).toMatch(/podman-setup\.sh|Docker/)
  })
})
