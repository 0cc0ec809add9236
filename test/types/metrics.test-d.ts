import type { Registry } from 'prom-client'
import { describe, expectTypeOf, it } from 'vitest'
import { registerMetrics } from '../../src/index.js'
import type { Consumer, Producer } from '../../src/index.js'

interface Order {
  id: number
}

describe('registerMetrics types', () => {
  it('takes a prom-client registry and typed producers and consumers, returns the remover', () => {
    expectTypeOf<Parameters<typeof registerMetrics>[0]>().toEqualTypeOf<Registry>()
    const fn = (registry: Registry, p: Producer<string, Order>, c: Consumer<Buffer, Order>) => registerMetrics(registry, p, c)
    expectTypeOf(fn).returns.toEqualTypeOf<() => void>()
    // @ts-expect-error a string is not a client
    const bad = (registry: Registry) => registerMetrics(registry, 'producer')
    void bad
  })
})
