#!/usr/bin/env node
// Packs kafkatune as npm would publish it, installs the tarball into an empty temp project, then in that
// project `import`s AND `require`s `kafkatune/testing`, starts a real broker with each, and produces and
// consumes a record with kafkajs, then with kafkatune's own producer and consumer (without the optional peer
// @opentelemetry/api). Proves the built files find kafka/pom.xml in both ESM and CommonJS.
// Needs `npm run build` first. Exit code 0 = pass.
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const log = (msg) => process.stderr.write(`pack-check: ${msg}\n`)
for (const f of ['dist/testing.js', 'dist/testing.cjs', 'dist/index.js', 'dist/index.cjs']) {
  if (!existsSync(join(root, f))) {
    log(`${f} is missing: run \`npm run build\` first`)
    process.exit(1)
  }
}

const work = mkdtempSync(join(tmpdir(), 'kafkatune-pack-check-'))
const keep = process.env.KAFKATUNE_PACK_CHECK_KEEP === '1'
let failed = false
try {
  const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: root, encoding: 'utf8' }))
  const { filename, files } = packed[0]
  const paths = files.map((f) => f.path)
  for (const needed of ['kafka/pom.xml', 'kafka/log4j2.properties', 'dist/testing.js', 'dist/testing.cjs', 'dist/testing.d.ts', 'dist/testing.d.cts', 'dist/cli.js', 'scripts/podman-setup.sh']) {
    if (!paths.includes(needed)) throw new Error(`the tarball lacks ${needed}`)
  }
  log(`packed ${filename} (${files.length} files)`)

  const app = join(work, 'app')
  execFileSync('mkdir', ['-p', app])
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'pack-check-app', version: '1.0.0', private: true }, null, 2))
  log('installing the tarball into an empty project...')
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', join(work, filename)], { cwd: app, stdio: ['ignore', 'inherit', 'inherit'] })

  const body = `
  const started = Date.now()
  const kafka = await startKafka({ mode: 'local' })
  try {
    if (kafka.mode !== 'local' || kafka.brokers.length !== 1) throw new Error('unexpected handle ' + JSON.stringify(kafka))
    const client = new Kafka({ clientId: 'pack-check', brokers: kafka.brokers, logLevel: logLevel.NOTHING })
    const topic = 'pack-check-' + Date.now()
    const producer = client.producer()
    await producer.connect()
    await producer.send({ topic, acks: -1, messages: [{ key: 'k', value: FLAVOUR }] })
    await producer.disconnect()
    const consumer = client.consumer({ groupId: topic, maxWaitTimeInMs: 200 })
    await consumer.connect()
    await consumer.subscribe({ topic, fromBeginning: true })
    const value = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no record within 60 s')), 60000)
      consumer.run({ eachMessage: async ({ message }) => { clearTimeout(timer); resolve(message.value.toString()) } })
    })
    await consumer.disconnect()
    if (value !== FLAVOUR) throw new Error('consumed ' + value)
    const main = MAIN
    if (typeof main !== 'object' || main === null) throw new Error('kafkatune main entry did not load')
    // kafkatune's own producer and consumer without the optional peer @opentelemetry/api (tracing then off).
    const fs = await import('node:fs')
    if (fs.existsSync('node_modules/@opentelemetry/api')) throw new Error('@opentelemetry/api got installed: it is an optional peer dependency')
    const kt = main.createProducer({ brokers: kafka.brokers, clientId: 'pack-check' })
    await kt.connect()
    const md = await kt.send({ topic, key: 'k2', value: 'kafkatune-' + FLAVOUR })
    await kt.disconnect()
    if (md.offset !== '1') throw new Error('kafkatune send landed at ' + JSON.stringify(md))
    const kc = main.createConsumer({ brokers: kafka.brokers, groupId: topic + '-kafkatune', topics: [topic], autoOffsetReset: 'earliest' })
    await kc.connect()
    let read = 0
    await kc.run({ eachMessage: async () => void read++ })
    for (const until = Date.now() + 60000; read < 2 && Date.now() < until; ) await new Promise((r) => setTimeout(r, 100))
    await kc.disconnect()
    if (read !== 2) throw new Error('the kafkatune consumer read ' + read + ' of 2 records')
    console.log(FLAVOUR + ': Kafka ' + KAFKA_VERSION + ' at ' + kafka.brokers.join(',') + ', produced and consumed in ' + (Date.now() - started) + ' ms')
  } finally {
    await kafka.stop()
  }
`
  writeFileSync(
    join(app, 'esm.mjs'),
    `import { startKafka, KAFKA_VERSION } from 'kafkatune/testing'\nimport * as mainEntry from 'kafkatune'\nimport kafkajs from 'kafkajs'\nconst { Kafka, logLevel } = kafkajs\nconst FLAVOUR = 'esm'\nconst MAIN = mainEntry\n${body}`,
  )
  writeFileSync(
    join(app, 'cjs.cjs'),
    `const { startKafka, KAFKA_VERSION } = require('kafkatune/testing')\nconst MAIN = require('kafkatune')\nconst { Kafka, logLevel } = require('kafkajs')\nconst FLAVOUR = 'cjs'\n;(async () => {${body}})().catch((err) => { console.error(err); process.exit(1) })\n`,
  )
  // The `kafkatune` command is linked into node_modules/.bin and runs with the installed dependencies.
  log('running npx kafkatune explain producer --json...')
  const cli = spawnSync('npx', ['--no-install', 'kafkatune', 'explain', 'producer', '--preset', 'low-latency', '--json'], { cwd: app, encoding: 'utf8', timeout: 60_000 })
  const acks = cli.status === 0 ? JSON.parse(cli.stdout).rows.find((r) => r.option === 'acks')?.value : undefined
  if (acks !== 1) {
    failed = true
    log(`npx kafkatune FAILED (exit ${cli.status ?? cli.signal}): ${cli.stderr}`)
  }
  for (const file of ['esm.mjs', 'cjs.cjs']) {
    log(`running ${file}...`)
    const res = spawnSync(process.execPath, [file], { cwd: app, stdio: ['ignore', 'inherit', 'inherit'], timeout: 300_000 })
    if (res.status !== 0) {
      failed = true
      log(`${file} FAILED (exit ${res.status ?? res.signal})`)
    }
  }
} catch (err) {
  failed = true
  log(`FAILED: ${err instanceof Error ? err.message : String(err)}`)
} finally {
  if (keep) log(`kept ${work}`)
  else rmSync(work, { recursive: true, force: true })
}
log(failed ? 'FAIL' : 'PASS')
process.exit(failed ? 1 : 0)
