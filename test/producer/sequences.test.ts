import { describe, expect, it } from 'vitest'
import type { OutboundBatch, OutboundRecord } from '../../src/producer/sender.js'
import { PartitionSequences } from '../../src/producer/sequences.js'

function batch(n: number, partition = 0): OutboundBatch {
  const rec = { key: null, value: null, headers: undefined, timestamp: '', sendAt: 0, size: 20, settle: () => true } as OutboundRecord
  return { topic: 't', partition, records: Array.from({ length: n }, () => rec), bytes: 0, createdAt: 0, closed: true, attempts: 0 }
}

/** A partition whose first batch the broker acknowledged (it holds state for this producer). */
function warm(seq = new PartitionSequences({ transactional: false })): PartitionSequences {
  const first = batch(1)
  seq.dispatched(first, 1)
  seq.returned(first)
  seq.acked(first)
  return seq
}

describe('PartitionSequences', () => {
  it('takes sequences in drain order and lets up to maxInFlight batches of a partition go', () => {
    const seq = warm()
    const bs = [batch(2), batch(3), batch(1), batch(4), batch(1)]
    for (const b of bs) {
      expect(seq.mayDrain(b, 1, 5)).toBe('send')
      seq.dispatched(b, 1)
    }
    expect(bs.map((b) => seq.baseSequence(b))).toEqual([1, 3, 6, 7, 11])
    expect(seq.mayDrain(batch(1), 1, 5)).toBe('wait')
    // Another partition counts on its own.
    expect(seq.mayDrain(batch(1, 1), 1, 5)).toBe('send')
  })

  it('under a fresh identity one batch goes until the broker acknowledged it (it takes any first sequence)', () => {
    const seq = new PartitionSequences({ transactional: false })
    const a = batch(1)
    seq.dispatched(a, 1)
    expect(seq.mayDrain(batch(1), 1, 5)).toBe('wait')
    seq.returned(a)
    seq.acked(a)
    expect(seq.mayDrain(batch(1), 1, 5)).toBe('send')
  })

  it('while retrying, only the batch the broker expects next goes; new batches wait', () => {
    const seq = warm()
    const [a, b, c] = [batch(1), batch(1), batch(1)]
    for (const x of [a, b, c]) seq.dispatched(x, 1)
    for (const x of [a, b, c]) seq.returned(x) // all three failed and wait in the queue
    expect(seq.mayDrain(b, 1, 5)).toBe('wait')
    expect(seq.mayDrain(batch(1), 1, 5)).toBe('wait')
    expect(seq.mayDrain(a, 1, 5)).toBe('send')
    expect(seq.hasUnresolvedBefore(b)).toBe(true)
    expect(seq.hasUnresolvedBefore(a)).toBe(false)
    seq.dispatched(a, 1)
    expect(seq.baseSequence(a)).toBe(1) // a retry keeps its sequence
    seq.returned(a)
    seq.acked(a)
    expect(seq.mayDrain(b, 1, 5)).toBe('send')
  })

  it('new batches wait while the partition has batches on the wire to another broker', () => {
    const seq = warm()
    seq.dispatched(batch(1), 1)
    expect(seq.mayDrain(batch(1), 2, 5)).toBe('wait')
    expect(seq.mayDrain(batch(1), 1, 5)).toBe('send')
  })

  it('a refused last batch gives its sequence back; one that may have been written makes the sequence unknown', () => {
    const seq = warm()
    const a = batch(2)
    seq.dispatched(a, 1)
    seq.returned(a)
    seq.givenUp(a, true)
    const b = batch(1)
    seq.dispatched(b, 1)
    expect(seq.baseSequence(b)).toBe(1)

    const lost = batch(1)
    seq.dispatched(lost, 1)
    seq.returned(b)
    seq.returned(lost)
    seq.uncertain(lost) // went unanswered once: a later refusal does not prove it was never written
    seq.givenUp(lost, true)
    // b is still unresolved: it tells whether `lost` was written (an ack past it) before anything new goes.
    expect(seq.mayDrain(batch(1), 1, 5)).toBe('wait')
    expect(seq.resetNeeded).toBe(false)
    seq.givenUp(b, false)
    expect(seq.resetNeeded).toBe(true)
    expect(seq.mayDrain(batch(1), 1, 5)).toBe('reset')
  })

  it('an acknowledgement past a given-up batch shows it was written: no new producer id needed', () => {
    const seq = warm()
    const [a, b] = [batch(1), batch(1)]
    seq.dispatched(a, 1)
    seq.dispatched(b, 1)
    seq.returned(a)
    seq.givenUp(a, false)
    seq.returned(b)
    seq.acked(b)
    expect(seq.resetNeeded).toBe(false)
    expect(seq.mayDrain(batch(1), 1, 5)).toBe('send')
  })

  it('a new identity reaches a partition once its old batches are resolved; refused ones are re-sequenced', () => {
    const seq = warm()
    const old = batch(1)
    seq.dispatched(old, 1)
    seq.returned(old)
    const other = batch(1, 1)
    seq.dispatched(other, 1)
    seq.returned(other)
    seq.rewrite(other)
    seq.newIdentity()
    // Partition 0 finishes `old` under the identity it may have been written with.
    expect(seq.baseSequence(old)).toBe(1)
    expect(seq.generationOf(old)).toBe(0)
    expect(seq.mayDrain(batch(1), 1, 5)).toBe('wait')
    seq.acked(old)
    const fresh = batch(1)
    expect(seq.mayDrain(fresh, 1, 5)).toBe('send')
    seq.dispatched(fresh, 1)
    expect([seq.baseSequence(fresh), seq.generationOf(fresh)]).toEqual([0, 1])
    // Partition 1's refused batch starts the new identity at 0.
    expect(seq.baseSequence(other)).toBe(-1)
    seq.dispatched(other, 1)
    expect([seq.baseSequence(other), seq.generationOf(other)]).toEqual([0, 1])
  })

  it('sequences wrap at Int32 max as the broker counts them, and keep their order', () => {
    const seq = warm()
    const big = batch(1)
    ;(big as { records: OutboundRecord[] }).records = { length: 0x7fffffff - 1 } as OutboundRecord[]
    seq.dispatched(big, 1)
    seq.returned(big)
    seq.acked(big)
    const [a, b] = [batch(3), batch(1)]
    seq.dispatched(a, 1)
    seq.dispatched(b, 1)
    expect(seq.baseSequence(a)).toBe(0x7fffffff)
    expect(seq.baseSequence(b)).toBe(2)
    expect((seq.position(b) as number) > (seq.position(a) as number)).toBe(true)
  })

  it('a transactional producer re-sequences everything under its new epoch (the old one is fenced)', () => {
    const seq = warm(new PartitionSequences({ transactional: true }))
    const waiting = batch(1)
    seq.dispatched(waiting, 1)
    seq.returned(waiting)
    seq.newIdentity()
    expect(seq.baseSequence(waiting)).toBe(-1)
    seq.dispatched(waiting, 1)
    expect([seq.baseSequence(waiting), seq.generationOf(waiting)]).toEqual([0, 1])
  })

  it('a transactional batch refused for good hands its sequences to the batches after it (no gap, as the Java client renumbers)', () => {
    const seq = warm(new PartitionSequences({ transactional: true }))
    const [refused, onWire, queued] = [batch(2), batch(3), batch(1)]
    for (const b of [refused, onWire, queued]) seq.dispatched(b, 1)
    seq.returned(refused)
    seq.returned(queued)
    seq.uncertain(queued) // its request failed as a whole: still cannot have been written after a gap
    expect([refused, onWire, queued].map((b) => seq.baseSequence(b))).toEqual([1, 3, 6])
    seq.givenUp(refused, true)
    expect([seq.baseSequence(onWire), seq.baseSequence(queued)]).toEqual([1, 4])
    // The answer still to come for `onWire` is about sequence 3: it goes again, with 1.
    expect(seq.renumberedSinceSent(onWire)).toBe(true)
    seq.returned(onWire)
    expect(seq.mayDrain(onWire, 1, 5)).toBe('send')
    seq.dispatched(onWire, 1)
    expect(seq.renumberedSinceSent(onWire)).toBe(false)
    seq.returned(onWire)
    seq.acked(onWire)
    // A new batch follows the renumbered ones.
    const next = batch(1)
    expect(seq.mayDrain(queued, 1, 5)).toBe('send')
    seq.dispatched(queued, 1)
    seq.dispatched(next, 1)
    expect(seq.baseSequence(next)).toBe(5)
  })

  it('an idempotent (not transactional) producer keeps a refused batch\'s gap for a new producer id instead', () => {
    const seq = warm()
    const [refused, after] = [batch(2), batch(1)]
    seq.dispatched(refused, 1)
    seq.dispatched(after, 1)
    seq.returned(refused)
    seq.givenUp(refused, true)
    expect(seq.baseSequence(after)).toBe(3)
    expect(seq.renumberedSinceSent(after)).toBe(false)
    seq.returned(after)
    seq.givenUp(after, true)
    expect(seq.resetNeeded).toBe(true)
  })

  it('an unanswered head batch: what the broker holds is read off the last sequence it reports', () => {
    const seq = warm()
    const [a, b, c] = [batch(161), batch(39), batch(200)]
    for (const x of [a, b, c]) seq.dispatched(x, 1)
    expect(seq.uncertainHead(a)).toBe(false) // on the wire
    for (const x of [a, b, c]) {
      seq.returned(x)
      seq.uncertain(x)
    }
    expect(seq.uncertainHead(a)).toBe(true)
    expect(seq.uncertainHead(b)).toBe(false) // not the oldest
    // Sequences 1..161, 162..200, 201..400 (0 was the warm-up's).
    expect(seq.writtenThrough(a, 0)).toEqual([])
    expect(seq.writtenThrough(a, 200)).toEqual([a, b])
    expect(seq.writtenThrough(a, 400)).toEqual([a, b, c])
    expect(seq.writtenThrough(a, 150)).toBeNull() // inside a batch: the sequence is lost
    expect(seq.writtenThrough(a, 7000)).toBeNull()
  })

  it('an unanswered head batch with acknowledged batches after it: the last sequence may lie past them', () => {
    const seq = warm()
    const [a, b, c] = [batch(10), batch(10), batch(10)]
    for (const x of [a, b, c]) seq.dispatched(x, 1)
    // a's answer is lost (sequences 1..10), b (11..20) is acknowledged, c (21..30) is refused and waits.
    for (const x of [a, b, c]) seq.returned(x)
    seq.uncertain(a)
    seq.acked(b)
    expect(seq.uncertainHead(a)).toBe(true)
    expect(seq.writtenThrough(a, 20)).toEqual([a])
    expect(seq.writtenThrough(a, 30)).toEqual([a, c])
    expect(seq.writtenThrough(a, 15)).toBeNull() // inside b: no batch boundary, so the answer cannot be trusted
    expect(seq.writtenThrough(a, 5)).toBeNull() // inside a
    expect(seq.writtenThrough(a, 31)).toBeNull() // past anything sent
    expect(seq.writtenThrough(a, -5)).toBeNull()
  })

  it('counts acknowledged batches behind an unresolved one: its resend stays among the last 5 the broker remembers', () => {
    const seq = warm()
    const bs = [batch(1), batch(1), batch(1), batch(1), batch(1)]
    for (const b of bs) seq.dispatched(b, 1)
    // The first one's answer is lost; the four after it are acknowledged.
    for (const b of bs.slice(1)) {
      seq.returned(b)
      seq.acked(b)
    }
    expect(seq.mayDrain(batch(1), 1, 5)).toBe('wait')
    seq.returned(bs[0]!)
    seq.acked(bs[0]!)
    expect(seq.mayDrain(batch(1), 1, 5)).toBe('send')
  })
})
