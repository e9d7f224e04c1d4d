// SPDX-License-Identifier: MIT
// Vite's configuration for the peer of bench/preview: the page and the
// markdown file live in a temporary folder (BENCH_VITE_ROOT); marked comes
// from bench/node_modules (bench/package-lock.json).
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const bench = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const root = process.env.BENCH_VITE_ROOT;

export default {
  root,
  clearScreen: false,
  logLevel: 'warn',
  resolve: { alias: { marked: resolve(bench, 'node_modules/marked/lib/marked.esm.js') } },
  server: { fs: { allow: [root, resolve(bench, 'node_modules')] } },
  optimizeDeps: { noDiscovery: true, include: [] },
};
