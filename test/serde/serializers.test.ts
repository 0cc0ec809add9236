import { describe, expect, it } from 'vitest'
import { serializerByName, serializers } from '../../src/serde/index.js'

describe('serializers object', () => {
  it('exposes every built-in and keeps serializerByName for the plain-data ones', async () => {
    expect(Object.keys(serializers).sort()).toEqual(['avro', 'bytes', 'json', 'schemaRegistry', 'string'])
    for (const name of ['string', 'bytes', 'json'] as const) expect(serializerByName(name).name).toBe(name)
    const json = serializerByName('json')
    expect(await json.deserialize(await json.serialize({ a: [1] }, { topic: 't', part: 'value' }), { topic: 't', part: 'value' })).toEqual({ a: [1] })
  })
})
