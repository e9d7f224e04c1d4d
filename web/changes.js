// SPDX-License-Identifier: MIT
// The "changes since version N" view: a picker above the document; once a
// version is picked, the diff from it to the version shown
// (GET …/versions/N/diff?to=M, docs/review.md) lists the documents and
// assets that changed, and the shown document's blocks carry marks: the
// class cp-diff-added or cp-diff-changed on the block at each op's index,
// and cp-diff-removed-before on the block a removed one stood before
// (cp-diff-removed-after on the last block when it stood at the end), with
// the removed keys in data-cp-diff-removed.  The server sends each block's
// index, so nothing here recomputes keys.  A new version fetches the diff
// to it; until it comes, no mark is shown.  ?since=N in the address opens
// the page with the view on.

import { h } from './render.js';
import { itemApi, previewUrl } from './urls.js';

const MARKS = ['cp-diff-added', 'cp-diff-changed', 'cp-diff-removed-before', 'cp-diff-removed-after'];
const SIGN = { added: '+', removed: '−', changed: '~' };

export function diffUrl(item, from, to) {
  return `${itemApi(item)}/versions/${from}/diff?to=${to}`;
}

function sinceInAddress() {
  const n = Number(new URLSearchParams(location.search).get('since'));
  return Number.isInteger(n) && n > 0 ? n : 0;
}

function counts(blocks) {
  const c = { added: 0, changed: 0, removed: 0 };
  for (const b of blocks) if (b && c[b.op] !== undefined) c[b.op]++;
  return ['changed', 'added', 'removed'].filter((k) => c[k]).map((k) => `${c[k]} ${k}`).join(', ');
}

export class Changes {
  // page: the Page (item, token, state, el, view).
  constructor(page) {
    this.page = page;
    this.panel = document.querySelector('.cp-changes');
    this.select = this.panel.querySelector('.cp-changes-since');
    this.note = this.panel.querySelector('.cp-changes-note');
    this.list = this.panel.querySelector('.cp-changes-list');
    this.since = sinceInAddress();
    this.diff = null; // the last diff fetched: {from, to, documents, assets}
    this.loading = ''; // "from→to" of the fetch under way
    this.seq = 0;
    this.marked = [];
    this.optionsFor = -1; // the version the picker's options were made for
    this.select.addEventListener('change', () => this.choose(Number(this.select.value) || 0));
  }

  // Brings the view to the page's state: called after every redraw of the
  // page (patched blocks are new nodes, so the marks are set again).
  refresh() {
    const v = this.page.state.version;
    const hide = v < 2 && !this.since;
    if (hide !== this.panel.hidden) this.keepPlace(() => { this.panel.hidden = hide; });
    this.renderOptions(v);
    if (!this.since || v < 1) {
      this.diff = null;
      if (!this.note.hidden || this.list.firstChild) {
        this.keepPlace(() => {
          this.note.hidden = true;
          this.list.replaceChildren();
        });
      }
      this.mark();
      return;
    }
    if (!this.diff || this.diff.from !== this.since || this.diff.to !== v) this.load(this.since, v);
    this.mark();
  }

  renderOptions(v) {
    if (this.optionsFor === v && Number(this.select.value || 0) === this.since) return;
    this.optionsFor = v;
    const opts = [h('option', null, 'off')];
    opts[0].value = '';
    for (let n = Math.max(v - 1, this.since); n >= 1; n--) {
      const o = h('option', null, `v${n}`);
      o.value = String(n);
      opts.push(o);
    }
    this.select.replaceChildren(...opts);
    this.select.value = this.since ? String(this.since) : '';
  }

  choose(n) {
    this.since = n;
    const url = new URL(location.href);
    if (n) url.searchParams.set('since', String(n));
    else url.searchParams.delete('since');
    history.replaceState(history.state, '', url.pathname + url.search + url.hash);
    this.refresh();
  }

  async load(from, to) {
    const key = `${from}→${to}`;
    if (this.loading === key) return;
    this.loading = key;
    const seq = ++this.seq;
    let diff = null;
    let why = '';
    try {
      const headers = this.page.token ? { Authorization: `Bearer ${this.page.token}` } : {};
      const r = await fetch(diffUrl(this.page.item, from, to), { headers });
      const body = await r.json().catch(() => null);
      if (r.ok && body && typeof body.documents === 'object') diff = body;
      else why = (body && body.error && body.error.message) || `HTTP ${r.status}`;
    } catch {
      why = 'the server did not answer';
    }
    if (seq !== this.seq) return; // a newer choice or version took over
    this.loading = '';
    this.diff = diff;
    this.keepPlace(() => this.renderList(from, to, why));
    this.mark();
  }

  // The panel is above the document: whatever changes its height keeps
  // the reader's place, as a patch of the document does (only then: finding
  // the place costs a layout).
  keepPlace(change) {
    const view = this.page.view;
    const anchor = this.page.shown && view.captureAnchor ? view.captureAnchor() : null;
    change();
    if (anchor) view.restoreAnchor(anchor);
  }

  renderList(from, to, why) {
    this.note.hidden = false;
    if (!this.diff) {
      this.note.textContent = `The changes since v${from} cannot be shown: ${why}`;
      this.list.replaceChildren();
      return;
    }
    const items = [];
    const docs = this.diff.documents || {};
    for (const path of Object.keys(docs)) {
      const d = docs[path];
      if (!d || d.status === 'unchanged') continue;
      const a = h('a', 'cp-changes-doc', path);
      a.setAttribute('href', previewUrl(this.page.item, path));
      if (d.status !== 'removed') a.setAttribute('data-cp-doc', path); // opens without a reload
      const what = d.status === 'changed' ? counts(d.blocks || []) || 'changed' : d.status;
      const li = h('li', 'cp-changes-item', h('span', 'cp-changes-sign', SIGN[d.status] || '~'), a,
        h('span', 'cp-changes-what', what));
      li.setAttribute('data-status', d.status);
      items.push(li);
    }
    const assets = this.diff.assets || {};
    for (const op of ['added', 'removed', 'changed']) {
      for (const path of Array.isArray(assets[op]) ? assets[op] : []) {
        const li = h('li', 'cp-changes-item cp-changes-asset', h('span', 'cp-changes-sign', SIGN[op]),
          h('span', 'cp-changes-path', path), h('span', 'cp-changes-what', `asset ${op}`));
        li.setAttribute('data-status', op);
        items.push(li);
      }
    }
    this.note.textContent = items.length ? `From v${from} to v${to}:` : `No changes from v${from} to v${to}.`;
    this.list.replaceChildren(...items);
  }

  // Marks the shown document's blocks with the diff to the version shown.
  mark() {
    if (!this.marked.length && !this.diff) return; // the usual case: the view is off
    for (const el of this.marked) {
      el.classList.remove(...MARKS);
      el.removeAttribute('data-cp-diff-key');
      el.removeAttribute('data-cp-diff-removed');
    }
    this.marked = [];
    const d = this.diff;
    const path = this.page.view.path;
    if (!this.since || !d || d.to !== this.page.state.version || !path || !d.documents) return;
    const doc = d.documents[path];
    if (!doc || !Array.isArray(doc.blocks)) return;
    const nodes = this.page.el.content.childNodes;
    const removed = new Map(); // marked element → the keys removed at it
    for (const b of doc.blocks) {
      if (b.op === 'removed') {
        const at = Number.isInteger(b.at) ? b.at : nodes.length;
        const el = nodes[Math.min(at, nodes.length - 1)];
        if (!el || el.nodeType !== 1) continue;
        el.classList.add(at < nodes.length ? 'cp-diff-removed-before' : 'cp-diff-removed-after');
        removed.set(el, [...(removed.get(el) || []), b.key]);
        this.marked.push(el);
        continue;
      }
      const el = nodes[b.index];
      if (!el || el.nodeType !== 1 || (b.op !== 'added' && b.op !== 'changed')) continue;
      el.classList.add(`cp-diff-${b.op}`);
      el.setAttribute('data-cp-diff-key', b.key);
      this.marked.push(el);
    }
    for (const [el, keys] of removed) el.setAttribute('data-cp-diff-removed', keys.join(' '));
  }
}
