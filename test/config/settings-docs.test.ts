/**
 * The option interfaces stay hand-written for their TSDoc; this keeps that TSDoc honest against the settings
 * table: each `@default` names the table's default, and a doc that opens with a Java name opens with the right one.
 */
import { readFileSync } from 'node:fs'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'
import { CONNECTION_SETTINGS, CONSUMER_SETTINGS, JAVA_PROPERTIES, PRODUCER_SETTINGS, type AnySetting } from '../../src/config/settings/index.js'

interface Doc {
  text: string
  defaultTag: string | undefined
}

/** TSDoc of each property of the named interfaces in src/config/types.ts. */
function docs(interfaceName: string): Map<string, Doc> {
  const file = ts.createSourceFile('types.ts', readFileSync('src/config/types.ts', 'utf8'), ts.ScriptTarget.ES2022, true)
  const out = new Map<string, Doc>()
  file.forEachChild((node) => {
    if (!ts.isInterfaceDeclaration(node) || node.name.text !== interfaceName) return
    for (const member of node.members) {
      if (!ts.isPropertySignature(member)) continue
      const jsDoc = ts.getJSDocCommentsAndTags(member).find(ts.isJSDoc)
      const text = typeof jsDoc?.comment === 'string' ? jsDoc.comment : (jsDoc?.comment ?? []).map((c) => c.text).join('')
      const tag = jsDoc?.tags?.find((t) => t.tagName.text === 'default')
      const defaultTag = tag === undefined ? undefined : typeof tag.comment === 'string' ? tag.comment : (tag.comment ?? []).map((c) => c.text).join('')
      out.set(member.name.getText(file), { text, defaultTag })
    }
  })
  return out
}

/** A value written as the TSDoc writes it: `'all'`, `16384`, `{ strategy: 'auto', intervalMs: 5000 }`, `['range']`. */
function literal(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`
  if (Array.isArray(value)) return `[${value.map(literal).join(', ')}]`
  if (value !== null && typeof value === 'object') return `{ ${Object.entries(value).map(([k, v]) => `${k}: ${literal(v)}`).join(', ')} }`
  return String(value)
}

const cases: [string, Readonly<Record<string, AnySetting>>][] = [
  ['ProducerTuning', PRODUCER_SETTINGS],
  ['ConsumerTuning', CONSUMER_SETTINGS],
  ['ConnectionOptions', CONNECTION_SETTINGS],
]

describe('option TSDoc and the settings table', () => {
  for (const [name, table] of cases) {
    const found = docs(name)
    it(`${name}: every option has TSDoc`, () => {
      expect([...found.keys()].sort()).toEqual(Object.keys(table).sort())
      for (const [option, doc] of found) expect(doc.text || doc.defaultTag, option).toBeTruthy()
    })

    it.each(Object.entries(table).filter(([, s]) => s.default !== undefined))(`${name}.%s: @default names the table's default`, (option, s) => {
      const tag = found.get(option)?.defaultTag
      expect(tag, `${option} has no @default`).toBeDefined()
      expect(tag!.replace(/(\d)_(\d)/g, '$1$2'), option).toContain(literal(s.default))
    })

    it(`${name}: a doc that opens with a Java property opens with the option's own`, () => {
      for (const [option, doc] of found) {
        const first = /^([a-z]+(?:\.[a-z]+)+)\b/.exec(doc.text)?.[1]
        if (first !== undefined) expect(JAVA_PROPERTIES[option], `${option}'s doc opens with ${first}`).toContain(first)
      }
    })
  }
})

describe('docs/tuning.md and the settings table', () => {
  const rows = readFileSync('docs/tuning.md', 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('|') && !l.startsWith('|---'))
    .map((l) => l.split('|').map((c) => c.trim()))

  it('every Java property the client tables name belongs to an option named on the same row', () => {
    let checked = 0
    for (const cells of rows) {
      const [, , java = '', options = ''] = cells
      const named = new Set([...options.matchAll(/`([A-Za-z]+)/g)].map((m) => m[1]!))
      for (const property of java.split(/ \/ |, /).filter((p) => /^[a-z]+(\.[a-z]+)*$/.test(p))) {
        const option = Object.entries(JAVA_PROPERTIES).find(([, name]) => name !== null && name.split(' / ').includes(property))?.[0]
        if (option === undefined) continue // a topic or broker property
        expect(named, `${property} is ${option}`).toContain(option)
        checked++
      }
    }
    expect(checked).toBeGreaterThan(25)
  })
})
