// SPDX-License-Identifier: MIT
// The Vite peer of bench/preview: the markdown file imported `?raw`,
// rendered with marked, and rendered again by hot module replacement when
// the file is saved.
import { marked } from 'marked';
import text from './content/index.md?raw';

const root = document.querySelector('.cp-content');
const render = (md) => { root.innerHTML = marked.parse(md); };
render(text);

if (import.meta.hot) {
  import.meta.hot.accept('./content/index.md?raw', (mod) => {
    if (mod) render(mod.default);
  });
}
