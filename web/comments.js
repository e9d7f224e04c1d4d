// SPDX-License-Identifier: MIT
// The comments margin: the comments on the shown document (GET
// …/comments?path=, docs/review.md), each thread beside the block it is
// on, outdated ones (their block changed or went away) gathered below with
// a mark; a form to comment on a block, to reply and to resolve, for those
// who may.  The server names a comment's block in the latest version by
// its index in the AST body (`index`), which is the index of the block's
// node in the page's DocView: the page never computes a block key.
//
// It reloads the list when the stream says a comment came or changed
// (`event: comment`), when a version comes (a block may have changed), and
// after a navigation; it places the threads again whenever the document's
// blocks move (a patch, an image loaded, the window resized).  Callers who
// may not read comments (readers, share links) get no margin at all.
//
// Positions go into a stylesheet of the margin's own (a constructed one:
// the page's policy allows no inline style, and its elements carry no
// style attribute).

import { h } from './render.js';
import { itemApi } from './urls.js';

const GAP_PX = 8; // between two threads that would overlap

function bodyText(s) {
  return typeof s === 'string' ? s : '';
}

export class Comments {
  // page: the Page (item, token, state, view, el, currentPath()).
  constructor(page) {
    this.page = page;
    this.margin = document.querySelector('.cp-margin');
    this.head = this.margin.querySelector('.cp-margin-title');
    this.here = this.margin.querySelector('.cp-threads');
    this.gone = this.margin.querySelector('.cp-outdated');
    this.goneList = this.margin.querySelector('.cp-outdated-list');
    this.add = h('button', 'cp-add', '+');
    this.add.type = 'button';
    this.add.title = 'Comment on this block';
    this.add.hidden = true;
    this.margin.append(this.add);
    this.list = null; // the last answer: {version, can_comment, comments}
    this.path = null; // the document it is about
    this.seq = 0;
    this.pending = false; // a reload waits for the next paint (reloadAfterPaint)
    this.off = false; // the caller may not read comments
    this.form = null; // {index, el}: the open form for a new comment
    this.hover = -1; // the block the add button is beside
    this.tops = { threads: new Map(), floor: 0, add: null, form: null }; // px
    this.sheet = typeof CSSStyleSheet === 'function' && 'adoptedStyleSheets' in document
      ? new CSSStyleSheet() : null;
    if (this.sheet) document.adoptedStyleSheets = [...document.adoptedStyleSheets, this.sheet];
    page.el.content.addEventListener('mouseover', (e) => this.onHover(e));
    this.margin.addEventListener('click', (e) => this.onClick(e));
    this.margin.addEventListener('submit', (e) => this.onSubmit(e));
    if (typeof ResizeObserver === 'function') {
      new ResizeObserver(() => this.place()).observe(page.el.content);
    }
  }

  headers(json) {
    const hd = this.page.token ? { Authorization: `Bearer ${this.page.token}` } : {};
    if (json) hd['Content-Type'] = 'application/json';
    return hd;
  }

  // After the page redrew: the list again when it is of another document
  // or version, else the threads placed again.
  refresh() {
    const fresh = this.list && this.path === this.page.view.path &&
      this.list.version === this.page.state.version;
    if (fresh) this.place();
    else this.reloadAfterPaint();
  }

  // Another version or document: its list (which comments are outdated
  // changes with the version) is fetched once the page has painted what
  // changed, so that neither the request nor the redraw delays the patch
  // on screen (docs/performance.md, "The page's share").
  reloadAfterPaint() {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => setTimeout(() => {
      this.pending = false;
      this.reload();
    }, 0));
  }

  // Fetches the list of the shown document again and redraws the margin.
  async reload() {
    if (this.off) return;
    const path = this.page.view.path;
    if (!path) return;
    const seq = ++this.seq;
    let r = null;
    let list = null;
    try {
      r = await fetch(`${itemApi(this.page.item)}/comments?path=${encodeURIComponent(path)}`,
        { headers: this.headers(false), cache: 'no-store' });
      if (r.ok) list = await r.json();
    } catch {
      list = null; // the server is away: the stream's state says so; keep what is shown
    }
    if (seq !== this.seq) return; // a newer reload took over
    if (r && (r.status === 401 || r.status === 403 || r.status === 404)) {
      this.off = true; // not for this caller: no margin
      this.page.el.main.classList.remove('cp-with-margin');
      this.margin.hidden = true;
      return;
    }
    if (!list || !Array.isArray(list.comments)) return;
    this.list = list;
    this.path = path;
    this.draw();
  }

  // Builds the threads: each first comment with its replies beneath.
  draw() {
    const all = this.list.comments;
    const byParent = new Map();
    for (const c of all) {
      if (c.reply_to === null || c.reply_to === undefined) continue;
      if (!byParent.has(c.reply_to)) byParent.set(c.reply_to, []);
      byParent.get(c.reply_to).push(c);
    }
    const thread = (c, depth) => {
      const el = h('div', depth ? 'cp-comment cp-reply' : 'cp-comment',
        h('span', 'cp-comment-user', bodyText(c.user)),
        h('p', 'cp-comment-body', bodyText(c.body)));
      el.setAttribute('data-comment', String(c.id));
      if (c.resolved) el.setAttribute('data-resolved', '');
      for (const r of byParent.get(c.id) || []) if (depth < 16) el.append(thread(r, depth + 1));
      return el;
    };
    // A reply being written survives the redraw (another comment came).
    const replies = new Map();
    for (const f of this.margin.querySelectorAll('.cp-thread form[data-reply-to]')) {
      replies.set(f.getAttribute('data-reply-to'), f);
    }
    const here = [];
    const gone = [];
    for (const c of all) {
      if (c.reply_to !== null && c.reply_to !== undefined) continue;
      const t = h('div', 'cp-thread', thread(c, 0));
      t.setAttribute('data-thread', String(c.id));
      if (c.resolved) t.setAttribute('data-resolved', '');
      if (this.list.can_comment) {
        t.append(h('div', 'cp-thread-actions',
          button('cp-reply-open', 'Reply'),
          button('cp-resolve', c.resolved ? 'Reopen' : 'Resolve')));
      }
      const writing = replies.get(String(c.id));
      if (writing) t.append(writing);
      if (c.outdated || typeof c.index !== 'number') {
        t.setAttribute('data-outdated', '');
        t.prepend(h('span', 'cp-outdated-mark', `outdated · on ${bodyText(c.block)}, version ${c.version}`));
        gone.push(t);
      } else {
        t.setAttribute('data-index', String(c.index));
        here.push(t);
      }
    }
    this.here.replaceChildren(...here);
    this.goneList.replaceChildren(...gone);
    this.gone.hidden = gone.length === 0;
    const open = all.filter((c) => !c.resolved).length;
    this.head.textContent = `Comments (${open} open, ${all.length - open} resolved)`;
    this.margin.hidden = false;
    this.page.el.main.classList.add('cp-with-margin');
    this.place();
  }

  // The block node at index of the shown document, as an element to
  // measure (a text node: its parent's place is no use, so none).
  node(index) {
    const n = this.page.view.nodes[index];
    return n && n.nodeType === 1 ? n : null;
  }

  // Puts each thread at the height of its block (below the previous one
  // when they would overlap), marks the commented blocks, and keeps the
  // open form and the add button beside theirs.
  place() {
    if (this.off || !this.list || this.margin.hidden) return;
    const same = this.path === this.page.view.path && this.list.version === this.page.state.version;
    for (const el of this.page.el.content.querySelectorAll('[data-cp-commented]')) {
      el.removeAttribute('data-cp-commented');
    }
    const top0 = this.here.getBoundingClientRect().top;
    const tops = this.tops;
    tops.threads.clear();
    let floor = 0;
    for (const t of this.here.children) {
      const b = same ? this.node(Number(t.getAttribute('data-index'))) : null;
      t.hidden = !b; // another version or document is shown: its reload comes
      if (!b) continue;
      b.setAttribute('data-cp-commented', '');
      const y = Math.max(b.getBoundingClientRect().top - top0, floor);
      tops.threads.set(t.getAttribute('data-thread'), y);
      floor = y + t.offsetHeight + GAP_PX;
    }
    tops.floor = floor;
    tops.form = this.form ? this.besideTop(this.form.index) : null;
    tops.add = this.hover >= 0 ? this.besideTop(this.hover) : null;
    this.apply();
  }

  // The height of block index from the margin's top (null: no such block).
  besideTop(index) {
    const b = this.node(index);
    return b ? b.getBoundingClientRect().top - this.margin.getBoundingClientRect().top : null;
  }

  // Writes the positions into the margin's stylesheet.
  apply() {
    if (!this.sheet) return;
    const t = this.tops;
    const rules = [`.cp-threads { min-height: ${Math.round(t.floor)}px; }`];
    for (const [id, y] of t.threads) {
      if (/^\d+$/.test(id)) rules.push(`.cp-threads > .cp-thread[data-thread="${id}"] { top: ${Math.round(y)}px; }`);
    }
    if (t.add !== null) rules.push(`.cp-margin > .cp-add { top: ${Math.round(t.add)}px; }`);
    if (t.form !== null) rules.push(`.cp-margin > .cp-new-comment { top: ${Math.round(t.form)}px; }`);
    this.sheet.replaceSync(rules.join('\n'));
  }

  onHover(e) {
    if (this.off || !this.list || !this.list.can_comment) return;
    const nodes = this.page.view.nodes;
    let el = e.target instanceof Element ? e.target : null;
    while (el && el.parentElement !== this.page.el.content) el = el.parentElement;
    const index = el ? nodes.indexOf(el) : -1;
    if (index < 0) return;
    this.hover = index;
    this.add.hidden = false;
    this.add.setAttribute('data-index', String(index));
    this.tops.add = this.besideTop(index);
    this.apply();
  }

  onClick(e) {
    const b = e.target instanceof Element ? e.target.closest('button') : null;
    if (!b || !this.margin.contains(b)) return;
    if (b === this.add) return this.openForm(Number(b.getAttribute('data-index')));
    if (b.classList.contains('cp-cancel')) return this.closeForm(b.closest('form'));
    const t = b.closest('.cp-thread');
    if (!t) return undefined;
    const id = Number(t.getAttribute('data-thread'));
    if (b.classList.contains('cp-resolve')) return this.resolve(id, !t.hasAttribute('data-resolved'), t);
    if (b.classList.contains('cp-reply-open') && !t.querySelector('form')) {
      const f = newForm('Reply', 'Your reply');
      f.setAttribute('data-reply-to', String(id));
      t.append(f);
      f.querySelector('textarea').focus();
      this.place();
    }
    return undefined;
  }

  openForm(index) {
    if (this.form) this.form.el.remove();
    const f = newForm('Comment', 'Your comment on this block');
    f.classList.add('cp-new-comment');
    f.setAttribute('data-index', String(index));
    this.margin.append(f);
    this.form = { index, el: f };
    this.tops.form = this.besideTop(index);
    this.apply();
    f.querySelector('textarea').focus();
  }

  closeForm(f) {
    if (!f) return;
    if (this.form && this.form.el === f) this.form = null;
    f.remove();
    this.place();
  }

  async onSubmit(e) {
    const f = e.target;
    e.preventDefault();
    const text = f.querySelector('textarea').value;
    if (!text.trim()) return;
    const reply = f.getAttribute('data-reply-to');
    const body = reply ? { reply_to: Number(reply), body: text }
      : { version: this.page.state.version, path: this.page.view.path,
        index: Number(f.getAttribute('data-index')), body: text };
    const ok = await this.send('POST', '/comments', body, f);
    if (ok) {
      this.closeForm(f);
      this.reload();
    }
  }

  async resolve(id, resolved, t) {
    if (await this.send('PATCH', `/comments/${id}`, { resolved }, t)) this.reload();
  }

  // One change; its refusal is shown in `where`.  True when it was made.
  async send(method, sub, body, where) {
    let msg = '';
    try {
      const r = await fetch(itemApi(this.page.item) + sub,
        { method, headers: this.headers(true), body: JSON.stringify(body) });
      if (r.ok) return true;
      const j = await r.json().catch(() => null);
      msg = (j && j.error && j.error.message) || `HTTP ${r.status}`;
    } catch {
      msg = 'the server does not answer';
    }
    let err = where.querySelector('.cp-comment-error');
    if (!err) {
      err = h('p', 'cp-comment-error');
      where.append(err);
    }
    err.textContent = msg;
    return false;
  }
}

function button(cls, label) {
  const b = h('button', cls, label);
  b.type = 'button';
  return b;
}

function newForm(label, placeholder) {
  const ta = h('textarea', 'cp-comment-text');
  ta.placeholder = placeholder;
  ta.maxLength = 10000;
  ta.rows = 3;
  const send = h('button', 'cp-send', label);
  send.type = 'submit';
  return h('form', 'cp-comment-form', ta, h('div', 'cp-form-actions', send, button('cp-cancel', 'Cancel')));
}
