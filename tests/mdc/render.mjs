// SPDX-License-Identifier: MIT
// Batch reference renderer for the AST fidelity tests.
//
// usage: node tests/mdc/render.mjs [--pretty] PATH...
//
// Each PATH is a markdown file or a directory (its *.md files, sorted, not
// recursive).  Prints ONE JSON object on stdout mapping every file path, as
// given or as joined with its directory, to {data, body, toc} exactly as
// @nuxtjs/mdc's parseMarkdown returns them (default options, which is what
// Nuxt Content uses for a plain parse), or to {"error": "..."} when
// parseMarkdown throws for that file.
//
// MDC reports dropped attributes with console.warn ("removing unsafe
// attribute"); those, and any other console output of the library, go to
// stderr so stdout stays one JSON document.
import fs from 'node:fs'
import path from 'node:path'

// Route library chatter to stderr before the library is loaded.
const toStderr = (...args) => process.stderr.write(args.map(String).join(' ') + '\n')
console.log = console.info = console.warn = console.debug = toStderr

const { parseMarkdown } = await import('@nuxtjs/mdc/runtime')

function expand(arg) {
  let st
  try {
    st = fs.statSync(arg)
  } catch {
    return [arg] // reported as {"error": ...} below
  }
  if (!st.isDirectory())
    return [arg]
  return fs.readdirSync(arg)
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => path.join(arg, name))
}

const args = process.argv.slice(2)
const pretty = args.includes('--pretty')
const inputs = args.filter((a) => a !== '--pretty')
if (inputs.length === 0) {
  process.stderr.write('usage: node render.mjs [--pretty] FILE|DIR...\n')
  process.exit(2)
}

const out = {}
for (const file of inputs.flatMap(expand)) {
  try {
    const src = fs.readFileSync(file, 'utf8')
    const r = await parseMarkdown(src)
    out[file] = { data: r.data, body: r.body, toc: r.toc }
  } catch (e) {
    out[file] = { error: String(e && e.stack ? e.stack.split('\n')[0] : e) }
  }
}
process.stdout.write(JSON.stringify(out, null, pretty ? 1 : undefined) + '\n')
