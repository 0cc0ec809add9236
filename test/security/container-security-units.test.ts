/**
 * The host side of secured container clusters (src/testing/container-security.ts): certificates made with the real
 * `openssl`, no container needed. The container side is test/integration/container-security.test.ts.
 */
import { X509Certificate } from 'node:crypto'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { CONTAINER_SECRETS_DIR, planContainerSecurity } from '../../src/testing/container-security.js'
import { planSecurity, scramCredentials, scramFormatArgs } from '../../src/testing/security.js'

describe('secured container clusters: host side', () => {
  it('names the runtime host in the broker certificate, besides 127.0.0.1 and localhost', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kafkatune-san-'))
    try {
      planSecurity({ listeners: ['ssl'] }, dir, ['docker.example.test', '10.1.2.3', '127.0.0.1'])
      const san = new X509Certificate(readFileSync(join(dir, 'broker.crt'))).subjectAltName ?? ''
      expect(san.split(', ').sort()).toEqual(['DNS:docker.example.test', 'DNS:localhost', 'IP Address:10.1.2.3', 'IP Address:127.0.0.1'])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('points the key store at the container, carries the files in memory and leaves nothing on the host', () => {
    const before = new Set(scratchDirs())
    const { plan, files } = planContainerSecurity({ listeners: ['sasl-ssl', 'mtls'], mechanisms: ['scram-sha-512'] }, '127.0.0.1')
    expect(plan.keystore).toBe(`${CONTAINER_SECRETS_DIR}/broker.p12`)
    expect(plan.truststore).toBe(`${CONTAINER_SECRETS_DIR}/ca.crt`)
    expect(files.map((f) => [f.target, f.mode])).toEqual([
      [plan.keystore, 0o600],
      [plan.truststore, 0o644],
    ])
    expect(files[1]?.content.toString('utf8')).toBe(plan.ca)
    expect(new X509Certificate(plan.clientCert).checkIssued(new X509Certificate(plan.ca))).toBe(true)
    expect(scratchDirs().filter((d) => !before.has(d))).toEqual([])
    expect(scramCredentials(plan)).toEqual([`SCRAM-SHA-512=[name=${plan.scram.username},password=${plan.scram.password}]`])
    expect(scramFormatArgs(plan)).toEqual(['--add-scram', scramCredentials(plan)[0]])
  })

  it('SASL_PLAINTEXT alone needs no certificates and no files', () => {
    const { plan, files } = planContainerSecurity({ listeners: ['sasl-plaintext'], mechanisms: ['plain'] }, '127.0.0.1')
    expect(files).toEqual([])
    expect(plan.keystore).toBe('')
    expect(scramCredentials(plan)).toEqual([])
  })
})

function scratchDirs(): string[] {
  return readdirSync(tmpdir()).filter((d) => d.startsWith('kafkatune-tls-'))
}
