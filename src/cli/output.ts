/**
 * Everything the command prints goes through here: tables and colour for people on a terminal,
 * plain text when piped, one JSON document with `--json`.
 */

/** How this run prints: decided once from `--json`, `NO_COLOR`/`FORCE_COLOR` and whether stdout is a TTY. */
export interface Output {
  readonly json: boolean
  readonly tty: boolean
  readonly color: boolean
  /** A line on stdout (human mode only). */
  line(text?: string): void
  /** A note on stderr: progress and status that must not mix with data on stdout. */
  note(text: string): void
  /** The one JSON document of a `--json` run. */
  emit(value: unknown): void
  /** A progress line, redrawn in place on a TTY and silent otherwise. */
  progress(text: string): void
  /** Clears the progress line. */
  endProgress(): void
  paint(style: Style, text: string): string
}

export type Style = 'bold' | 'dim' | 'red' | 'yellow' | 'green' | 'cyan'

const CODES: Record<Style, [number, number]> = {
  bold: [1, 22],
  dim: [2, 22],
  red: [31, 39],
  yellow: [33, 39],
  green: [32, 39],
  cyan: [36, 39],
}

/** Decides colour the way most tools do: NO_COLOR wins, FORCE_COLOR forces, else only on a TTY. */
export function createOutput(opts: { json: boolean }, stdout: NodeJS.WriteStream = process.stdout, stderr: NodeJS.WriteStream = process.stderr): Output {
  const tty = stdout.isTTY === true
  const env = process.env
  const color = !opts.json && env.NO_COLOR === undefined && (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0' ? true : tty)
  const errTty = stderr.isTTY === true
  let progressShown = false
  return {
    json: opts.json,
    tty,
    color,
    line: (text = '') => {
      if (!opts.json) stdout.write(`${text}\n`)
    },
    note: (text) => {
      stderr.write(`${text}\n`)
    },
    emit: (value) => {
      stdout.write(`${JSON.stringify(value, jsonReplacer, 2)}\n`)
    },
    progress: (text) => {
      if (!errTty || !tty) return
      stderr.write(`\r\x1b[2K${text}`)
      progressShown = true
    },
    endProgress: () => {
      if (progressShown) stderr.write('\r\x1b[2K')
      progressShown = false
    },
    paint: (style, text) => {
      if (!color) return text
      const [open, close] = CODES[style]
      return `\x1b[${open}m${text}\x1b[${close}m`
    },
  }
}

function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString()
  if (Buffer.isBuffer(value)) return value.toString('base64')
  if (value instanceof RegExp) return value.toString()
  return value
}

const ANSI = /\x1b\[[0-9;]*m/g
const visibleLength = (s: string): number => s.replace(ANSI, '').length

/** A plain-text table: columns padded to their widest cell; the last column is never padded. */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[], out?: Pick<Output, 'paint'>): string {
  const widths = headers.map((h, i) => Math.max(visibleLength(h), ...rows.map((r) => visibleLength(r[i] ?? ''))))
  const fmt = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat(Math.max(0, (widths[i] ?? 0) - visibleLength(c)))))
      .join('  ')
      .trimEnd()
  const head = fmt(headers)
  return [out ? out.paint('bold', head) : head, ...rows.map(fmt)].join('\n')
}

/** A value as one short cell: strings bare, objects as compact JSON. */
export function cell(value: unknown): string {
  if (value === null || value === undefined) return '-'
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value)
  return JSON.stringify(value)
}
