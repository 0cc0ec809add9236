import { describe, expect, it } from 'vitest'
import { createTransformStep } from '../../src/pipeline/outputs.js'
import type { ConsumedMessage } from '../../src/messages.js'
import { serializers } from '../../src/serde/index.js'

const input: ConsumedMessage<string, string> = { topic: 'in', partition: 0, offset: '7', key: 'k', value: 'v', headers: {}, timestamp: '1' }

/** `to` null: a pipeline without `to`. */
function step(transform: (msg: ConsumedMessage<string, string>) => unknown, to: string | null = 'out') {
  return createTransformStep<string, string, string, string>({ transform: transform as never, to: to ?? undefined, keySerializer: serializers.string(), valueSerializer: serializers.string() })
}

describe('pipeline transform outputs', () => {
  it('stages each output record with its topic and serialized bytes; null skips, a null value is a tombstone', async () => {
    const staged = await step((m) => [{ key: m.key, value: `${m.value}!` }, { topic: 'other', value: null }])(input)
    expect(staged.map((s) => [s.record.topic, s.keyBytes?.toString() ?? null, s.valueBytes?.toString() ?? null])).toEqual([
      ['out', 'k', 'v!'],
      ['other', null, null],
    ])
    expect(await step(() => null)(input)).toEqual([])
  })

  it('refuses what is not an output record, so it fails (retries, dead letter) instead of being written as a tombstone', async () => {
    for (const [out, message] of [
      [5, /^transform returned number: return an output record/],
      ['text', /^transform returned string/],
      [[{ value: 'ok' }, null], /^transform returned null inside an array/],
      [{ topic: '', value: 'x' }, /topic must be a non-empty string, got ''/],
      [{ topic: 3, value: 'x' }, /topic must be a non-empty string, got number/],
    ] as const) {
      await expect(step(() => out)(input)).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringMatching(message) })
    }
    await expect(step(() => ({ value: 'x' }), null)(input)).rejects.toMatchObject({ message: 'an output record has no topic and the pipeline has no `to`' })
  })
})
