import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { bundleFixture } from '../fixtures/child-process.js'

describe('registerMetrics without prom-client', () => {
  it('throws CONFIG_INVALID naming the package to install', async () => {
    const script = await bundleFixture(join(import.meta.dirname, '../fixtures/no-prom-client-child.ts'))
    // A preload that makes prom-client unresolvable, as in an application that did not install it.
    const hide = join(dirname(script), 'hide-prom-client.cjs')
    writeFileSync(
      hide,
      `const Module = require('node:module')
const resolve = Module._resolveFilename
Module._resolveFilename = function (request, ...rest) {
  if (request === 'prom-client') { const e = new Error("Cannot find module 'prom-client'"); e.code = 'MODULE_NOT_FOUND'; throw e }
  return resolve.call(this, request, ...rest)
}
`,
    )
    const out = JSON.parse(execFileSync(process.execPath, ['--require', hide, script], { encoding: 'utf8' })) as { thrown: boolean; code?: string; message?: string }
    expect(out).toMatchObject({ thrown: true, code: 'CONFIG_INVALID' })
    expect(out.message).toContain('npm install prom-client')
  }, 60_000)
})
