import { describe, expect, it } from 'vitest'
import { LazyAbort } from '../../src/consumer/lazy-abort.js'

describe('LazyAbort', () => {
  it('a signal read before the abort fires its listeners with the first reason', () => {
    const a = new LazyAbort()
    const signal = a.signal
    const seen: unknown[] = []
    signal.addEventListener('abort', () => seen.push(signal.reason))
    expect(signal.aborted).toBe(false)
    a.abort('first')
    a.abort('second')
    expect(seen).toEqual(['first'])
    expect(a.signal).toBe(signal)
  })

  it('a signal first read after the abort is already aborted, with the first reason', () => {
    const a = new LazyAbort()
    a.abort(new Error('stop'))
    a.abort(new Error('later'))
    expect(a.signal.aborted).toBe(true)
    expect((a.signal.reason as Error).message).toBe('stop')
    expect(a.signal).toBe(a.signal)
  })
})
