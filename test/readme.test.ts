/**
 * The README's ```ts snippets compile under the project's strict settings against the public API
 * ('kafkatune' mapped to src/index.ts). Free identifiers a snippet leaves to the reader get `declare` stubs.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

const root = join(import.meta.dirname, '..')

/** What the snippets use without defining: the reader's own code. */
const STUBS: Record<string, string> = {
  ids: 'declare const ids: number[]',
  brokers: 'declare const brokers: string[]',
  bill: 'declare function bill(order: { id: number }): Promise<void>',
  enrich: 'declare function enrich(order: string): string',
  flushState: 'declare function flushState(partitions: Record<string, number[]>): Promise<void>',
  loadState: 'declare function loadState(partitions: Record<string, number[]>): Promise<void>',
}

function tsSnippets(markdown: string): { line: number; code: string }[] {
  const out: { line: number; code: string }[] = []
  const lines = markdown.split('\n')
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.trim() !== '```ts') continue
    const start = i + 1
    let end = start
    while (end < lines.length && lines[end]!.trim() !== '```') end++
    out.push({ line: start + 1, code: lines.slice(start, end).join('\n') })
    i = end
  }
  return out
}

function withStubs(code: string): string {
  const stubs = Object.entries(STUBS)
    .filter(([name]) => new RegExp(`\\b${name}\\b`).test(code) && !new RegExp(`(const|let|function)\\s+${name}\\b`).test(code))
    .map(([, decl]) => decl)
  // Imports must stay first only by convention; declarations after them keep line numbers readable.
  return `${code}\n\n${stubs.join('\n')}\nexport {}\n`
}

describe('README snippets', () => {
  const snippets = tsSnippets(readFileSync(join(root, 'README.md'), 'utf8'))

  it('finds the snippets', () => {
    expect(snippets.length).toBeGreaterThanOrEqual(2)
  })

  it('every ```ts snippet type-checks under strict', () => {
    const dir = join(root, 'node_modules', '.cache', 'kafkatune-readme')
    rmSync(dir, { recursive: true, force: true })
    mkdirSync(dir, { recursive: true })
    const files = snippets.map((s, i) => {
      const file = join(dir, `readme-line-${s.line}-${i}.ts`)
      writeFileSync(file, withStubs(s.code))
      return file
    })
    const program = ts.createProgram(files, {
      strict: true,
      noUncheckedIndexedAccess: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      lib: ['lib.es2023.d.ts'],
      types: ['node'],
      skipLibCheck: true,
      noEmit: true,
      resolveJsonModule: true,
      paths: { kafkatune: [join(root, 'src/index.ts')], 'kafkatune/testing': [join(root, 'src/testing/index.ts')] },
    })
    const problems = ts
      .getPreEmitDiagnostics(program)
      .filter((d) => d.file === undefined || files.includes(d.file.fileName))
      .map((d) => {
        const where = d.file && d.start !== undefined ? `${d.file.fileName.split('/').pop()}:${d.file.getLineAndCharacterOfPosition(d.start).line + 1}` : ''
        return `${where} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`
      })
    expect(problems).toEqual([])
  }, 60_000)
})
