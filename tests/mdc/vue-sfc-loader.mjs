// SPDX-License-Identifier: MIT
// Node module hooks that let plain Node import @nuxtjs/mdc's MDCRenderer.vue
// (registered by html.mjs with module.register):
//
// - a `.vue` file is compiled with @vue/compiler-sfc (its <script> block; the
//   renderer ships a render function, no template) and loaded as ES module;
// - the runtime's extension-less relative imports ("../utils/node",
//   "../utils"), which a bundler would resolve, are retried with ".js" and
//   "/index.js".
import fs from 'node:fs'
import { fileURLToPath } from 'node:url'

export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context)
  } catch (e) {
    const relative = specifier.startsWith('./') || specifier.startsWith('../')
    if (!relative || !['ERR_MODULE_NOT_FOUND', 'ERR_UNSUPPORTED_DIR_IMPORT'].includes(e.code))
      throw e
    for (const suffix of ['.js', '/index.js']) {
      try {
        return await next(specifier + suffix, context)
      } catch {
        // try the next spelling
      }
    }
    throw e
  }
}

export async function load(url, context, next) {
  if (!url.endsWith('.vue'))
    return next(url, context)
  const { parse, compileScript } = await import('@vue/compiler-sfc')
  const file = fileURLToPath(url)
  const { descriptor, errors } = parse(fs.readFileSync(file, 'utf8'), { filename: file })
  if (errors.length)
    throw new Error(`${file}: ${errors[0].message}`)
  if (descriptor.template)
    throw new Error(`${file}: has a <template>; html.mjs only loads render-function SFCs`)
  const script = compileScript(descriptor, { id: file })
  return { format: 'module', source: script.content, shortCircuit: true }
}
