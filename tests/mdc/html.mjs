// SPDX-License-Identifier: MIT
// HTML level of the fidelity tests: what the real front end shows.
//
// usage: node tests/mdc/html.mjs < DOCS.json
//
// DOCS.json is one JSON object {key: {data, body}} (AST documents, ours or
// MDC's).  Each is rendered by @nuxtjs/mdc's own <MDCRenderer> under
// @vue/server-renderer, and ONE JSON object {key: "html"} (or
// {key: {"error": "..."}}) is printed on stdout.
//
// Components are registered as generic elements, so that what a component
// receives is visible in the HTML: `<x-NAME data-props='{...}'>` holding its
// default slot, then each named slot as `<x-slot name="NAME">`.  data-props
// is the JSON of the props the renderer passes (keys sorted; functions, such
// as event handlers, do not print).  HTML attribute order carries no meaning,
// so every start tag's attributes are printed sorted by name; and as at the
// AST level (docs/ast-fidelity.md), the tokens of `class` and `rel` (in an
// attribute or in data-props) are sorted.
//
// Vue's and the library's console output goes to stderr.
import module from 'node:module'

const toStderr = (...args) => process.stderr.write(args.map(String).join(' ') + '\n')
console.log = console.info = console.warn = console.debug = console.error = toStderr

module.register('./vue-sfc-loader.mjs', import.meta.url)

const { createSSRApp, h } = await import('vue')
const { renderToString } = await import('@vue/server-renderer')
const { pascalCase } = await import('scule')
const { default: htmlTags } = await import('@nuxtjs/mdc/runtime/parser/utils/html-tags-list')
const { default: MDCRenderer } = await import('@nuxtjs/mdc/runtime/components/MDCRenderer.vue')

const TOKEN_SETS = ['class', 'rel']
const sortTokens = (s) => s.split(/\s+/).filter(Boolean).sort().join(' ')

function sortKeys(v, key) {
  if (Array.isArray(v))
    return v.map((x) => sortKeys(x))
  if (v && typeof v === 'object')
    return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys(v[k], k)]))
  if (typeof v === 'string' && TOKEN_SETS.includes(key))
    return sortTokens(v)
  return v
}

// A component that prints its props and slots.
function generic(tag) {
  return {
    name: 'X' + pascalCase(tag),
    inheritAttrs: false,
    render() {
      const names = Object.keys(this.$slots)
        .filter((n) => typeof this.$slots[n] === 'function' && !n.startsWith('_'))
        .sort((a, b) => (a === 'default' ? -1 : b === 'default' ? 1 : a < b ? -1 : a > b ? 1 : 0))
      const children = names.flatMap((n) => {
        const content = this.$slots[n]()
        return n === 'default' ? content : [h('x-slot', { name: n }, content)]
      })
      return h('x-' + tag, { 'data-props': JSON.stringify(sortKeys(this.$attrs)) }, children)
    },
  }
}

function componentTags(node, out) {
  const stack = [node]
  while (stack.length) {
    const n = stack.pop()
    if (!n || typeof n !== 'object')
      continue
    if (n.type === 'element' && typeof n.tag === 'string' && !htmlTags.includes(n.tag))
      out.add(n.tag)
    if (Array.isArray(n.children))
      stack.push(...n.children)
  }
  return out
}

// Vue's SSR output escapes '"', '&', '<' and '>' inside attribute values.
const START_TAG = /<([A-Za-z][^\s/>]*)((?:\s+[^\s=/>]+(?:="[^"]*")?)+)(\s*\/?)>/g
const ATTR = /[^\s=/>]+(?:="[^"]*")?/g

const TOKEN_ATTR = /^(class|rel)="([^"]*)"$/

function sortAttributes(html) {
  return html.replace(START_TAG, (_, tag, attrs, end) => {
    const sorted = attrs.match(ATTR).sort().map((a) => {
      const m = TOKEN_ATTR.exec(a)
      return m ? `${m[1]}="${sortTokens(m[2])}"` : a
    })
    return `<${tag} ${sorted.join(' ')}${end}>`
  })
}

async function renderHtml(doc) {
  const app = createSSRApp({ render: () => h(MDCRenderer, { body: doc.body, data: doc.data || {} }) })
  app.config.warnHandler = (msg) => toStderr('[Vue warn]', msg)
  for (const tag of componentTags(doc.body, new Set()))
    app.component(pascalCase(tag), generic(tag))
  return sortAttributes(await renderToString(app))
}

let input = ''
for await (const chunk of process.stdin)
  input += chunk
const docs = JSON.parse(input)
const out = {}
for (const [key, doc] of Object.entries(docs)) {
  try {
    out[key] = await renderHtml(doc)
  } catch (e) {
    out[key] = { error: String(e && e.stack ? e.stack.split('\n')[0] : e) }
  }
}
process.stdout.write(JSON.stringify(out) + '\n')
