// SPDX-License-Identifier: MIT
// Patching a shown document in place when a new version of it arrives.
//
// The body's top-level blocks are compared by their JSON: the blocks the
// old and new versions share at the start and at the end keep their DOM
// nodes; only the run between them is rendered again, and it is what gets
// highlighted.  Around the patch, the reader's place is kept: the heading
// in view (else the first block in view) stays at the same height on the
// screen, however much was inserted or removed above it.

import { renderBlock } from './render.js';

const HIGHLIGHT_MS = 1600;

export class DocView {
  // container: the element that holds the blocks; topInset(): the height
  // of the sticky bar over the content, in px.
  constructor(container, topInset) {
    this.container = container;
    this.topInset = topInset;
    this.path = null;
    this.keys = [];  // JSON of each block
    this.nodes = []; // the DOM node of each block
    this.epoch = '';
  }

  // Renders ast from scratch (another document, or the first time).
  show(path, ast, ctx, epoch) {
    const children = blocksOf(ast);
    this.path = path;
    this.epoch = epoch;
    this.keys = children.map((c) => JSON.stringify(c));
    this.nodes = children.map((c) => renderBlock(c, ctx));
    this.container.replaceChildren(...this.nodes);
  }

  // Brings the shown document to ast, touching only what changed; the
  // changed blocks are highlighted.  When epoch differs (the item's list of
  // documents or files changed, which changes links), every block is
  // rendered again but only those whose JSON changed are highlighted.
  // anchor: captureAnchor() taken before the page wrote anything else this
  // task (a read of a clean layout costs nothing; after a write it forces a
  // layout), or undefined to take it here.  Returns the number of blocks
  // replaced.
  patch(ast, ctx, epoch, anchor = undefined) {
    const children = blocksOf(ast);
    const keys = children.map((c) => JSON.stringify(c));
    const old = this.keys;
    let start = 0;
    let endOld = old.length;
    let endNew = keys.length;
    const all = epoch !== this.epoch;
    if (!all) {
      while (start < endOld && start < endNew && old[start] === keys[start]) start++;
      while (endOld > start && endNew > start && old[endOld - 1] === keys[endNew - 1]) {
        endOld--;
        endNew--;
      }
      if (start === endOld && start === endNew) return 0;
    }
    if (anchor === undefined) anchor = this.captureAnchor();
    const before = all ? multiset(old) : null;
    const ref = endOld < this.nodes.length ? this.nodes[endOld] : null;
    for (let i = start; i < endOld; i++) this.nodes[i].remove();
    const fresh = [];
    for (let i = start; i < endNew; i++) fresh.push(renderBlock(children[i], ctx));
    for (const n of fresh) this.container.insertBefore(n, ref);
    this.nodes.splice(start, endOld - start, ...fresh);
    this.keys = keys;
    this.epoch = epoch;
    const marked = fresh.filter((n, i) => !before || !take(before, keys[start + i]));
    if (marked.length) marked.forEach((n) => highlight(n, 'cp-changed'));
    else if (!all && ref) highlight(ref, 'cp-removed-above'); // only deletions
    if (!below(anchor, fresh[0] || ref)) this.restoreAnchor(anchor);
    return fresh.length;
  }

  // The element whose place on the screen is kept across a patch: the
  // first heading in view, else the first block in view.
  captureAnchor() {
    const top = this.topInset();
    const bottom = window.innerHeight;
    let pick = null;
    for (const hd of this.container.querySelectorAll('h1, h2, h3, h4, h5, h6')) {
      const r = hd.getBoundingClientRect();
      if (r.top >= top && r.top < bottom) {
        pick = hd;
        break;
      }
      if (r.top >= bottom) break;
    }
    if (!pick) {
      pick = this.nodes.find((n) => {
        if (n.nodeType !== 1) return false;
        const r = n.getBoundingClientRect();
        return r.bottom > top && r.top < bottom;
      }) || null;
    }
    if (!pick) return null;
    return {
      el: pick,
      id: pick.id || '',
      tag: pick.tagName,
      text: pick.textContent,
      top: pick.getBoundingClientRect().top,
    };
  }

  // Scrolls so that the anchor (or, when it was replaced, the element with
  // its id, else a heading with its text) is where it was.
  restoreAnchor(a) {
    if (!a) return;
    let el = a.el.isConnected ? a.el : null;
    if (!el && a.id) {
      el = [...this.container.querySelectorAll('[id]')].find((e) => e.id === a.id) || null;
    }
    if (!el && /^H[1-6]$/.test(a.tag)) {
      el = [...this.container.querySelectorAll(a.tag)].find((e) => e.textContent === a.text) || null;
    }
    if (!el) return;
    const delta = el.getBoundingClientRect().top - a.top;
    if (Math.abs(delta) >= 1) window.scrollBy(0, delta);
  }
}

// True when everything the patch changed is below the anchor, which then
// has not moved (reading where it is would only force a layout): the
// anchor was kept, and the first block after the change (null: the change
// is at the end) follows it.
function below(anchor, first) {
  if (!anchor || !anchor.el.isConnected) return false;
  if (!first) return true;
  const pos = anchor.el.compareDocumentPosition(first);
  return (pos & Node.DOCUMENT_POSITION_FOLLOWING) !== 0 && (pos & Node.DOCUMENT_POSITION_CONTAINED_BY) === 0;
}

function blocksOf(ast) {
  const body = ast && ast.body;
  return body && Array.isArray(body.children) ? body.children : [];
}

function multiset(keys) {
  const m = new Map();
  for (const k of keys) m.set(k, (m.get(k) || 0) + 1);
  return m;
}

function take(m, k) {
  const n = m.get(k) || 0;
  if (!n) return false;
  m.set(k, n - 1);
  return true;
}

// Marks a node for a moment: the class holds a static highlight for
// HIGHLIGHT_MS, then gives way to `cp-fade` (a short transition back to
// the plain style, which it then keeps: removing it while the transition
// runs would not stop it).  No animation runs while the mark holds: a page
// with a running animation is drawn at every frame, and a patch then waits
// for the next frame (up to 16.7 ms at 60 Hz) before it is painted; a page
// at rest is drawn as soon as it changes (docs/performance.md, "The page's
// share").  Marking a node again restarts its mark.
const marks = new WeakMap(); // node → Map(class → timer)

export function highlight(node, cls) {
  if (node.nodeType !== 1) return;
  let timers = marks.get(node);
  if (!timers) marks.set(node, (timers = new Map()));
  clearTimeout(timers.get(cls));
  node.classList.remove(`${cls}-fade`);
  node.classList.add(cls);
  timers.set(cls, setTimeout(() => {
    node.classList.replace(cls, `${cls}-fade`);
    timers.delete(cls);
  }, HIGHLIGHT_MS));
}
