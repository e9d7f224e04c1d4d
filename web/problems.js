// SPDX-License-Identifier: MIT
// The problems panel: the findings of the checks (docs/checks.md) that
// came with the shown version, each a link to its place in the page, and a
// mark on the block each finding is about.
//
// The AST has no source positions, so a finding's line is placed through
// the document's source (its raw file, fetched once per version of it): a line
// in the front matter is the front-matter panel; line 0 (the whole file)
// is the document's first block; any other line is counted as blocks the
// way the page shows them — the last top-level heading at or above it (ATX
// or setext), then the blocks after that heading (a run of non-blank
// lines, a fenced code block, an MDC component from `::name` to its `::`,
// a list with its blank lines and indented lines) — and lands on the block
// of the same rank after the same heading on the page, never past the
// next heading.  docs/preview.md says so.

import { h } from './render.js';
import { filesUrl, previewUrl } from './urls.js';

const FENCE = /^ {0,3}(`{3,}|~{3,})/;
const ATX = /^ {0,3}#{1,6}(?:[ \t]|$)/;
const SETEXT = /^ {0,3}(?:=+|-+)[ \t]*$/;
const LIST = /^ {0,3}(?:[-*+]|\d{1,9}[.)])(?:[ \t]|$)/;
const COMPONENT_OPEN = /^\s*:{2,}[A-Za-z]/;
const COMPONENT_CLOSE = /^\s*:{2,}\s*$/;
const PARAGRAPH_ONLY = /^ {0,3}(?:[>#|<]|`{3}|~{3})/; // lines a setext underline cannot follow

function frontMatterEnd(lines) {
  if (lines[0] !== '---') return -1;
  for (let i = 1; i < lines.length; i++) if (lines[i] === '---' || lines[i] === '...') return i;
  return -1;
}

// Where line (1-based) of src is: {front: true} in the front matter, else
// {heading, offset}: the 0-based rank of the last top-level heading at or
// above it (-1: none) and the rank of its block after that heading (0: the
// heading itself; before any heading, 1 is the first block).
export function placeOf(src, line) {
  const lines = src.split(/\r\n|\r|\n/);
  const fm = frontMatterEnd(lines);
  if (fm >= 0 && line <= fm + 1) return { front: true };
  let heading = -1;
  let offset = 0;
  let fence = '';
  let depth = 0; // open components
  let blank = true; // the next non-blank line starts a block
  let inList = false;
  for (let i = fm + 1; i < Math.min(line, lines.length); i++) {
    const l = lines[i];
    const f = FENCE.exec(l);
    if (fence) {
      if (f && f[1][0] === fence[0] && f[1].length >= fence.length && !l.slice(f[0].length).trim()) {
        fence = '';
        blank = true;
      }
      continue;
    }
    if (depth > 0) {
      if (COMPONENT_CLOSE.test(l)) depth--;
      else if (COMPONENT_OPEN.test(l)) depth++;
      if (depth === 0) blank = true;
      continue;
    }
    if (!l.trim()) {
      blank = true;
      continue;
    }
    const listy = LIST.test(l) || /^\s{2,}\S/.test(l);
    // A heading: ATX, a setext underline, or the line above one.
    const setextNext = blank && !listy && !PARAGRAPH_ONLY.test(l) && i + 1 < lines.length &&
      SETEXT.test(lines[i + 1]) && !SETEXT.test(l);
    if (ATX.test(l) || setextNext ||
        (SETEXT.test(l) && !blank && !inList && !PARAGRAPH_ONLY.test(lines[i - 1]))) {
      if (setextNext) i++; // its underline
      heading++;
      offset = 0;
      blank = true;
      inList = false;
      continue;
    }
    if (f || COMPONENT_OPEN.test(l)) {
      offset++;
      if (f) fence = f[1];
      else depth = 1;
      inList = false;
      continue;
    }
    if (blank && !(inList && listy)) {
      offset++;
      inList = LIST.test(l);
    }
    blank = false;
  }
  return { heading, offset };
}

function worst(list) {
  return list.some((f) => f.severity === 'error') ? 'error' : 'warning';
}

function where(f) {
  return f.line > 0 ? `${f.path}:${f.line}` : f.path;
}

export class Problems {
  // page: the Page (item, token, state, el, go()).
  constructor(page) {
    this.page = page;
    this.panel = document.querySelector('.cp-problems');
    this.title = this.panel.querySelector('.cp-problems-title');
    this.list = this.panel.querySelector('.cp-problems-list');
    this.sources = new WeakMap(); // a document's AST → Promise of its source text
    this.marked = [];
    this.titles = new WeakMap(); // marked block → its own title attribute
    this.seq = 0;
    this.pending = null; // a finding to point out once its document is shown
    this.list.addEventListener('click', (e) => this.onClick(e));
  }

  findings() {
    return this.page.state.checks || [];
  }

  // Redraws the panel and the marks of the shown document.
  refresh() {
    const all = this.findings();
    const errors = all.filter((f) => f.severity === 'error').length;
    this.panel.hidden = all.length === 0;
    this.panel.setAttribute('data-severity', all.length ? worst(all) : '');
    this.title.textContent = `Problems (${errors} error${errors === 1 ? '' : 's'}, ` +
      `${all.length - errors} warning${all.length - errors === 1 ? '' : 's'})`;
    this.list.replaceChildren(...all.map((f, i) => {
      const a = h('a', 'cp-problem-link', h('span', 'cp-problem-where', where(f)));
      a.setAttribute('href', previewUrl(this.page.item, f.path));
      a.setAttribute('data-cp-finding', String(i));
      const msg = h('span', 'cp-problem-msg', `${f.message} `, h('span', 'cp-problem-code', `[${f.code || ''}]`));
      const li = h('li', 'cp-problem', h('span', 'cp-problem-sev', f.severity || 'warning'), a, msg);
      li.setAttribute('data-severity', f.severity === 'error' ? 'error' : 'warning');
      return li;
    }));
    this.mark();
    const p = this.pending;
    if (p && this.page.currentPath() !== p.path) this.pending = null; // navigated elsewhere
    else if (p && this.page.view.path === p.path) {
      this.pending = null;
      this.pointOut(p);
    }
  }

  // The raw source of path in the shown version ('' when it cannot be
  // read), fetched once per version of the document: keyed by its AST,
  // which a changed document replaces.
  source(path) {
    const ast = this.page.state.docs.get(path);
    if (!ast || typeof ast !== 'object') return Promise.resolve('');
    if (!this.sources.has(ast)) {
      const headers = this.page.token ? { Authorization: `Bearer ${this.page.token}` } : {};
      const url = `${filesUrl(this.page.item, path, '', '')}?version=${this.page.state.version}`;
      this.sources.set(ast, fetch(url, { headers })
        .then((r) => (r.ok ? r.text() : ''))
        .catch(() => ''));
    }
    return this.sources.get(ast);
  }

  // The element finding f is about, in the page as it is now (null: its
  // document is not the one shown).
  async target(f) {
    if (this.page.view.path !== f.path) return null;
    const blocks = [...this.page.el.content.children];
    if (!(f.line > 0)) return blocks[0] || null;
    const place = placeOf(await this.source(f.path), f.line);
    if (this.page.view.path !== f.path) return null;
    if (place.front) return this.page.el.meta.hidden ? blocks[0] || null : this.page.el.meta;
    const heads = [];
    blocks.forEach((b, i) => {
      if (/^H[1-6]$/.test(b.tagName)) heads.push(i);
    });
    const k = Math.min(place.heading, heads.length - 1);
    const base = k >= 0 ? heads[k] : -1;
    const limit = k + 1 < heads.length ? heads[k + 1] - 1 : blocks.length - 1;
    return blocks[Math.max(0, Math.min(base + place.offset, limit))] || null;
  }

  // Marks the blocks the shown document's findings are about: the
  // attribute data-cp-problem (its worst severity) and a title listing
  // them.  Patched blocks are new nodes, so this runs after every refresh.
  async mark() {
    const seq = ++this.seq;
    const mine = this.findings().filter((f) => f.path === this.page.view.path);
    const targets = await Promise.all(mine.map((f) => this.target(f)));
    if (seq !== this.seq) return; // a newer refresh took over
    for (const el of this.marked) {
      el.removeAttribute('data-cp-problem');
      const own = this.titles.get(el); // the block's own title, if it had one
      if (own === undefined) el.removeAttribute('title');
      else el.setAttribute('title', own);
    }
    const byEl = new Map();
    targets.forEach((el, i) => {
      if (!el) return;
      if (!byEl.has(el)) byEl.set(el, []);
      byEl.get(el).push(mine[i]);
    });
    this.marked = [...byEl.keys()];
    for (const [el, list] of byEl) {
      if (!this.titles.has(el) && el.hasAttribute('title')) this.titles.set(el, el.getAttribute('title'));
      el.setAttribute('data-cp-problem', worst(list));
      el.setAttribute('title', list.map((f) => `${where(f)}: ${f.severity}: ${f.message} [${f.code}]`).join('\n'));
    }
  }

  async onClick(e) {
    const a = e.target instanceof Element ? e.target.closest('a[data-cp-finding]') : null;
    if (!a || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    e.stopPropagation();
    const f = this.findings()[Number(a.getAttribute('data-cp-finding'))];
    if (!f) return;
    if (this.page.view.path !== f.path) this.page.go(f.path, '', true);
    // A document the stream carries as a stub is shown once fetched whole:
    // its block is pointed out then (refresh()).
    this.pending = this.page.view.path === f.path ? null : f;
    if (!this.pending) await this.pointOut(f);
  }

  // Scrolls to the block finding f is about and highlights it.
  async pointOut(f) {
    const el = await this.target(f);
    if (!el) return;
    if (el === this.page.el.meta) el.open = true;
    el.scrollIntoView({ block: 'center' });
    el.classList.remove('cp-problem-here');
    void el.offsetWidth;
    el.classList.add('cp-problem-here');
  }
}
