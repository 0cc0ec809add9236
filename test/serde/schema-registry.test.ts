import { describe, expect, it } from 'vitest'
import { schemaIdOf, serializers } from '../../src/serde/index.js'

// Behaviour against a real registry is in test/integration/serde-registry.test.ts.
describe('schemaRegistry wire format', () => {
  it('reads the schema id after the magic byte', () => {
    expect(schemaIdOf(Buffer.from([0, 0, 0, 1, 2, 9, 9]))).toBe(258)
  })

  it('rejects messages that are not in the Confluent wire format', () => {
    expect(() => schemaIdOf(Buffer.from([0, 0, 1]))).toThrow(/too short/)
    expect(() => schemaIdOf(Buffer.from('{"json":true}'))).toThrow(/not the Confluent wire-format magic byte 0/)
  })

  it('deserialize rejects a non-wire-format message before asking the registry', async () => {
    // Port 9 (discard) is closed here: reaching the network would fail differently.
    const serde = serializers.schemaRegistry({ host: 'http://127.0.0.1:9' })
    expect(serde.name).toBe('schemaRegistry')
    await expect(serde.deserialize(Buffer.from('plain'), { topic: 't', part: 'value' })).rejects.toThrow(/magic byte/)
  })
})
