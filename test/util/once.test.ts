import { describe, expect, it } from 'vitest'
import { once } from '../../src/util/once.js'

describe('once', () => {
  it('runs the function on the first call only', () => {
    let n = 0
    const release = once(() => n++)
    release()
    release()
    expect(n).toBe(1)
  })
})
