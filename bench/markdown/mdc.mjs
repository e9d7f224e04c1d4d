// SPDX-License-Identifier: MIT
// Throughput of @nuxtjs/mdc's parseMarkdown (the peer our renderer is
// measured against), with the same method as bench_markdown.c: load every
// file into memory, warm up (one untimed pass, more until 1 s has gone by,
// so the JIT has settled), then parse the whole corpus again and again for at least
// --seconds, and report input megabytes (10^6 bytes, counted as UTF-8 bytes
// of the files) per second.
//
// parseMarkdown(src) with its default options is what the fidelity tests
// compare against.  It builds its unified pipeline on every call; reusing
// one parser from createMarkdownParser() measured no faster on this corpus,
// so the public one-call API is what is timed.
//
// usage: node mdc.mjs [--seconds S] FILE...     one key=value line on stdout
//        node mdc.mjs --check FILE...           prints the files parseMarkdown
//                                               rejects, one per line
//
// The module resolves from tests/node_modules (the pinned version of the
// fidelity tests), so run `npm ci` in tests/ first; bench/markdown/run does.
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
const testsDir = path.resolve(here, '../../tests')

// MDC warns on stderr about every unsafe attribute it drops; in a timed loop
// that would measure the terminal, so library console output is silenced.
const quiet = () => {}
console.log = console.info = console.warn = console.debug = quiet

// The package is ESM-only ("import" condition), which require.resolve cannot
// see, and ESM resolution starts from this file, outside tests/: so read the
// exports map of the installed package directly.
const pkgDir = path.join(testsDir, 'node_modules/@nuxtjs/mdc')
if (!fs.existsSync(path.join(pkgDir, 'package.json'))) {
  process.stderr.write(`mdc.mjs: ${pkgDir} is missing: run npm ci in tests/\n`)
  process.exit(1)
}
const pkg = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8'))
const target = pkg.exports?.['./runtime']
const entry = path.join(pkgDir, (typeof target === 'string' ? target : target?.import ?? target?.default) ??
  'dist/runtime/index.js')
const { parseMarkdown } = await import(pathToFileURL(entry).href)
const version = pkg.version

let seconds = 2
let check = false
const files = []
const args = process.argv.slice(2)
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--seconds') seconds = Number(args[++i])
  else if (args[i] === '--check') check = true
  else files.push(args[i])
}
if (files.length === 0 || !(seconds > 0)) {
  process.stderr.write('usage: node mdc.mjs [--seconds S] [--check] FILE...\n')
  process.exit(2)
}

const docs = files.map((f) => fs.readFileSync(f, 'utf8'))
const bytes = files.reduce((n, f) => n + fs.statSync(f).size, 0)

if (check) {
  for (let i = 0; i < docs.length; i++) {
    try {
      await parseMarkdown(docs[i])
    } catch {
      process.stdout.write(files[i] + '\n')
    }
  }
  process.exit(0)
}

async function onePass() {
  let out = 0
  for (const d of docs) {
    const r = await parseMarkdown(d)
    out += r.body.children.length
  }
  return out
}

const now = () => Number(process.hrtime.bigint()) / 1e9

// Warm-up, untimed.
const w0 = now()
do await onePass()
while (now() - w0 < 1)

let passes = 0
const t0 = now()
let elapsed
do {
  await onePass()
  passes++
  elapsed = now() - t0
} while (elapsed < seconds)

const mbps = (bytes * passes) / elapsed / 1e6
process.stdout.write(`engine=mdc version=${version} files=${docs.length} bytes=${bytes} ` +
  `passes=${passes} seconds=${elapsed.toFixed(3)} mb_per_s=${mbps.toFixed(2)}\n`)
