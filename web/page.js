// SPDX-License-Identifier: MIT
// The preview page around the document: the bar (item, version, connection
// state), the banner, the sidebar of the item's documents, the front matter
// and the table of contents; navigation between documents without a
// reload; and what each message of the stream does to all of them.
//
// The stream carries whole only the document the tab opened with; the
// others are stubs (title and toc: enough for the sidebar).  A document
// shown that the state holds as a stub is fetched whole from the API, once
// per version of it.  An update redraws only what it touched: the shown
// document block by block, and the sidebar entries of the documents it
// names (the whole list only when documents come or go).

import { Changes } from './changes.js';
import { DocView, highlight } from './patch.js';
import { Comments } from './comments.js';
import { Problems } from './problems.js';
import { h, renderData, renderToc } from './render.js';
import { statePanel, stateTitle, suggestItems } from './states.js';
import {
  applySnapshot, applyUpdate, docOrder, docTitle, isStub, newItemState,
} from './store.js';
import { astUrl, previewUrl } from './urls.js';

const STATUS_TEXT = {
  connecting: 'connecting',
  live: 'live',
  reconnecting: 'reconnecting',
  offline: 'offline',
  deleted: 'deleted',
  unauthorized: 'token needed',
  'not-found': 'not found',
};

function qs(sel) {
  return document.querySelector(sel);
}

function findId(root, id) {
  return [...root.querySelectorAll('[id]')].find((e) => e.id === id) || null;
}

export class Page {
  constructor(item, token, path) {
    this.item = item;
    this.token = token;
    this.path = path;
    this.state = newItemState();
    this.images = new WeakMap(); // img → asset path
    this.changed = new Set(); // documents changed since the reader last saw them
    this.whole = new Map(); // path → AST fetched whole (the state has its stub)
    this.gen = new Map(); // path → updates of it seen: a fetch older than one is dropped
    this.fetching = new Set(); // paths being fetched
    this.side = { key: null, entries: new Map(), cur: null }; // the sidebar drawn
    this.shown = false;
    this.stateShown = ''; // the state panel on screen while no document is (showState)
    this.asideKey = null; // what the front matter and toc panels show (renderAside)
    this.transport = '';
    this.detail = '';
    this.resync = () => {};
    this.el = {
      bar: qs('.cp-bar'), item: qs('.cp-item'), version: qs('.cp-version'), conn: qs('.cp-conn'),
      banner: qs('.cp-banner'), docs: qs('.cp-docs'), docList: qs('.cp-doc-list'), meta: qs('.cp-meta'),
      metaBody: qs('.cp-meta-body'), content: qs('.cp-content'), toc: qs('.cp-toc'),
      tocTitle: qs('.cp-toc-title'), tocBody: qs('.cp-toc-body'), main: qs('.cp-main'),
    };
    this.view = new DocView(this.el.content, () => this.el.bar.getBoundingClientRect().bottom);
    this.problems = new Problems(this);
    this.comments = new Comments(this);
    this.changes = new Changes(this);
    this.el.item.textContent = `${item.kind}/${item.name}`;
    this.el.item.title = this.el.item.textContent; // the bar may cut it short
    document.addEventListener('click', (e) => this.onClick(e));
    window.addEventListener('popstate', () => this.onPopState());
  }

  setTransport(mode) {
    this.transport = mode;
    this.el.conn.setAttribute('data-transport', mode);
    this.updateConnTitle();
  }

  updateConnTitle() {
    const how = `one event stream per item for all tabs (${this.transport})`;
    this.el.conn.title = this.detail ? `${this.detail}; ${how}` : how;
  }

  ctx() {
    return {
      item: this.item, docPath: this.currentPath(), token: this.token,
      docs: new Set(this.state.docs.keys()), files: this.state.files, images: this.images,
    };
  }

  // The links of a document depend on which documents the item has.
  epoch() {
    return docOrder(this.state.docs).join('\n');
  }

  currentPath() {
    if (this.path) return this.path;
    return this.state.docs.has('index.md') ? 'index.md' : docOrder(this.state.docs)[0] || 'index.md';
  }

  receive(m) {
    switch (m.t) {
      case 'snapshot': return this.onSnapshot(m);
      case 'update': return this.onUpdate(m);
      case 'deleted': return this.onDeleted();
      case 'status': return this.onStatus(m);
      case 'comment': return this.comments.reload();
      default: return undefined;
    }
  }

  onSnapshot(m) {
    const before = this.state.docs;
    applySnapshot(this.state, m);
    if (this.shown) {
      for (const [p, ast] of this.state.docs) {
        if (!before.has(p) || JSON.stringify(before.get(p)) !== JSON.stringify(ast)) this.noteChanged(p);
      }
    }
    // Whole documents fetched for an older version may be stale now.
    for (const p of this.whole.keys()) this.bump(p);
    this.whole.clear();
    this.refresh(true, null);
    this.problems.refresh();
    this.comments.refresh();
    this.changes.refresh();
  }

  bump(p) {
    this.gen.set(p, (this.gen.get(p) || 0) + 1);
  }

  // The AST of document `path` if the page has it whole, else null.
  wholeDoc(path) {
    const d = this.state.docs.get(path);
    if (d && !isStub(d)) return d;
    return this.whole.get(path) || null;
  }

  // Fetches the AST of `path` (a stub in the state) and shows it.
  async fetchWhole(path) {
    if (this.fetching.has(path)) return;
    this.fetching.add(path);
    const gen = this.gen.get(path) || 0;
    const version = this.state.version;
    let ast = null;
    try {
      const headers = this.token ? { Authorization: `Bearer ${this.token}` } : {};
      const r = await fetch(astUrl(this.item, path, version), { headers });
      if (r.ok) ast = await r.json();
    } catch {
      ast = null; // the stream's state says whether the server is there
    }
    this.fetching.delete(path);
    if ((this.gen.get(path) || 0) !== gen) {
      if (path === this.currentPath()) this.showFetched(); // changed meanwhile: again
      return;
    }
    if (!ast || typeof ast !== 'object') {
      if (path === this.currentPath() && !this.wholeDoc(path)) {
        this.showNotice(`Document ${path} of version ${version} could not be loaded.`);
      }
      return;
    }
    this.whole.set(path, ast);
    if (path === this.currentPath()) this.showFetched();
  }

  // Shows the current document once fetched whole, its problems marked.
  showFetched() {
    this.refresh(true, new Set());
    this.problems.refresh();
    this.comments.refresh();
    this.changes.refresh();
  }

  onUpdate(m) {
    if (m.version <= this.state.version) return; // seen already
    if (!applyUpdate(this.state, m)) {
      this.resync(); // a message was missed: ask for the whole state
      return;
    }
    for (const [p] of m.docs) {
      this.noteChanged(p);
      this.whole.delete(p);
      this.bump(p);
    }
    for (const p of m.removed) {
      this.whole.delete(p);
      this.bump(p);
    }
    const cur = this.currentPath();
    const touched = m.docs.some(([p]) => p === cur) || m.removed.includes(cur);
    this.refresh(touched, new Set(m.docs.map(([p]) => p)));
    if (m.assets.length) this.refreshImages(new Set(m.assets.map((f) => f.path)));
    this.problems.refresh();
    this.comments.refresh();
    this.changes.refresh();
    highlight(this.el.version, 'cp-changed');
  }

  noteChanged(p) {
    if (p !== this.currentPath()) this.changed.add(p);
  }

  // Brings the whole page to the state; the document is patched in place
  // (or shown from scratch the first time and after a navigation).
  // sideTouched: the documents whose sidebar entries changed (null: all).
  refresh(docTouched, sideTouched) {
    // The reader's place, read before anything is written (see patch()).
    const anchor = docTouched && this.shown && this.view.path === this.currentPath()
      ? this.view.captureAnchor() : undefined;
    const v = this.state.version;
    this.el.version.textContent = v > 0 ? `v${v}` : 'no version yet';
    this.el.version.setAttribute('data-version', String(v));
    this.renderSidebar(sideTouched);
    const path = this.currentPath();
    if (!this.state.docs.has(path)) {
      this.showMissing(path);
      return;
    }
    const ast = this.wholeDoc(path);
    if (!ast) {
      this.fetchWhole(path); // shows it when it comes; the page keeps what it shows
      return;
    }
    const epoch = this.epoch();
    if (!this.shown || this.view.path !== path) {
      const first = !this.shown;
      this.view.show(path, ast, this.ctx(), epoch);
      this.shown = true;
      this.renderAside(ast);
      if (first && location.hash) this.scrollToHash(location.hash);
      return;
    }
    if (docTouched || epoch !== this.view.epoch) {
      this.view.patch(ast, this.ctx(), epoch, anchor);
      this.renderAside(ast);
    }
  }

  showMissing(path) {
    this.showNotice(this.state.version > 0
      ? `Version ${this.state.version} of this item has no document ${path}.`
      : 'Nothing has been pushed to this item yet.');
  }

  showNotice(msg) {
    const path = this.currentPath();
    this.view.path = null;
    this.shown = true;
    this.el.content.replaceChildren(h('p', 'cp-notice', msg));
    this.el.meta.hidden = true;
    this.el.toc.hidden = true;
    this.asideKey = null;
    document.title = `${path} · preview`;
  }

  renderAside(ast) {
    // Redrawn only when the front matter or the toc changed (a save of a
    // paragraph changes neither).
    const key = JSON.stringify([this.currentPath(), ast && ast.data, ast && ast.toc]);
    if (key === this.asideKey) return;
    this.asideKey = key;
    const data = ast && ast.data && typeof ast.data === 'object' ? ast.data : {};
    const title = typeof data.title === 'string' && data.title ? data.title : this.currentPath();
    document.title = `${title} · preview`;
    const keys = Object.keys(data).filter((k) => !((k === 'title' || k === 'description') && !data[k]));
    this.el.meta.hidden = keys.length === 0;
    this.el.metaBody.replaceChildren(renderData(data));
    const toc = ast && ast.toc;
    const links = toc && Array.isArray(toc.links) ? toc.links : [];
    this.el.toc.hidden = links.length === 0;
    this.el.tocTitle.textContent = toc && typeof toc.title === 'string' && toc.title ? toc.title : 'On this page';
    this.el.tocBody.replaceChildren(renderToc(links));
  }

  sideEntry(p, cur) {
    const t = docTitle(this.state.docs.get(p)) || p;
    const a = h('a', 'cp-doc-link', h('span', 'cp-doc-title', t), h('span', 'cp-doc-path', p));
    a.setAttribute('href', previewUrl(this.item, p));
    a.setAttribute('data-cp-doc', p);
    if (p === cur) a.setAttribute('aria-current', 'page');
    const li = h('li', null, a);
    if (this.changed.has(p)) li.append(h('span', 'cp-doc-changed', 'updated'));
    return li;
  }

  // The list of documents: drawn whole when documents came or went (or
  // touched is null), else only the entries of `touched` and of the
  // current document before and after a navigation are redrawn.
  renderSidebar(touched) {
    const cur = this.currentPath();
    const order = docOrder(this.state.docs);
    const key = order.join('\n');
    const side = this.side;
    let drawn = side.cur !== cur;
    if (touched === null || touched === undefined || key !== side.key) {
      drawn = true;
      side.entries = new Map(order.map((p) => [p, this.sideEntry(p, cur)]));
      side.key = key;
      this.el.docList.replaceChildren(...side.entries.values());
    } else {
      const redo = new Set(touched);
      if (side.cur !== cur) {
        redo.add(cur);
        if (side.cur !== null) redo.add(side.cur);
      }
      for (const p of redo) {
        const old = side.entries.get(p);
        if (!old) continue;
        const li = this.sideEntry(p, cur);
        if (li.isEqualNode(old)) continue; // same title, marks and place
        old.replaceWith(li);
        side.entries.set(p, li);
        drawn = true;
      }
    }
    side.cur = cur;
    this.el.docs.hidden = order.length === 0;
    if (!drawn) return; // nothing moved: no need to read the layout
    // On a phone the list is a row that scrolls sideways: the current
    // document's tab is brought into it (never the page scrolled).
    const list = this.el.docList;
    const at = list.querySelector('[aria-current="page"]');
    if (at && list.scrollWidth > list.clientWidth) {
      list.scrollLeft = at.parentElement.offsetLeft - list.offsetLeft - 20;
    }
  }

  // A changed image gets its new URL (the asset's hash is part of it).
  refreshImages(paths) {
    const ctx = this.ctx();
    for (const img of this.el.content.querySelectorAll('img')) {
      const p = this.images.get(img);
      if (p === undefined || !paths.has(p)) continue;
      const f = ctx.files.get(p);
      const url = new URL(img.src);
      if (f && f.sha256) url.searchParams.set('v', f.sha256.slice(0, 16));
      img.setAttribute('src', url.pathname + url.search);
      highlight(img, 'cp-changed');
    }
  }

  onStatus(m) {
    const state = typeof m.state === 'string' ? m.state : 'connecting';
    this.el.conn.setAttribute('data-state', state);
    this.el.conn.textContent = STATUS_TEXT[state] || state;
    this.detail = typeof m.detail === 'string' ? m.detail : '';
    this.updateConnTitle();
    if (!this.shown) {
      this.showState(state);
      return;
    }
    if (state === 'unauthorized') {
      this.showBanner('unauthorized', 'This server needs a token: open the preview address with ?access_token=TOKEN (create one with `contentd token create USER`).');
    } else if (state === 'not-found') {
      this.showBanner('not-found', `There is no item ${this.item.kind}/${this.item.name} here, or it is private to another user.`);
    } else if (state === 'live' && this.el.banner.getAttribute('data-kind') !== 'deleted') {
      this.el.banner.hidden = true;
    }
  }

  onDeleted() {
    if (!this.shown) this.showState('deleted');
    else this.showBanner('deleted', 'This item was deleted. The page shows the last version it received.');
  }

  // No document on screen yet: the state takes the document's place (and
  // the empty sidebars stay hidden) instead of "Loading…".
  showState(state) {
    const key = `${state}\n${this.detail}`;
    if (this.stateShown === key) return;
    const panel = statePanel(state, this.item, this.detail);
    if (!panel) return; // connecting, or live until the snapshot arrives
    this.stateShown = key;
    this.el.banner.hidden = true;
    this.el.meta.hidden = true;
    this.el.toc.hidden = true;
    this.asideKey = null;
    this.el.content.replaceChildren(panel);
    document.title = `${stateTitle(state)} · preview`;
    if (state === 'not-found') suggestItems(panel, this.token);
  }

  showBanner(kind, msg) {
    this.el.banner.setAttribute('data-kind', kind);
    this.el.banner.textContent = msg;
    this.el.banner.hidden = false;
  }

  go(path, hash, push) {
    if (push) history.pushState(null, '', previewUrl(this.item, path) + (hash || ''));
    this.path = path;
    this.changed.delete(path);
    const same = this.view.path === path;
    this.refresh(false, new Set([path]));
    this.problems.refresh();
    this.comments.refresh();
    this.changes.refresh();
    if (hash) this.scrollToHash(hash);
    else if (!same) window.scrollTo(0, 0);
  }

  scrollToHash(hash) {
    let id = hash.replace(/^#/, '');
    try {
      id = decodeURIComponent(id);
    } catch { /* keep it as written */ }
    const el = id && findId(this.el.content, id);
    if (el) el.scrollIntoView();
  }

  onClick(e) {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const a = e.target instanceof Element ? e.target.closest('a[data-cp-doc]') : null;
    if (!a) return;
    e.preventDefault();
    let hash = '';
    try {
      hash = new URL(a.href).hash;
    } catch { /* none */ }
    this.go(a.getAttribute('data-cp-doc'), hash, true);
  }

  onPopState() {
    const r = parseRoute(location.pathname);
    if (!r) return;
    this.go(r.path, location.hash, false);
  }
}

const KINDS = new Set(['tutorial', 'challenge', 'course', 'skill-path', 'roadmap']);
const NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

// /preview/KIND/NAME[/PATH] → {kind, name, path} (path null: the item's
// root document), or null when it is not such an address (the CONTRACT's
// KIND and NAME).
export function parseRoute(pathname) {
  const m = /^\/preview\/([^/]+)\/([^/]+)(?:\/(.*))?$/.exec(pathname);
  if (!m) return null;
  try {
    const path = m[3] ? m[3].split('/').map(decodeURIComponent).join('/') : null;
    const r = { kind: decodeURIComponent(m[1]), name: decodeURIComponent(m[2]), path: path || null };
    return KINDS.has(r.kind) && NAME.test(r.name) ? r : null;
  } catch {
    return null;
  }
}
