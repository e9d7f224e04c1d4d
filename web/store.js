// SPDX-License-Identifier: MIT
// An item as the page knows it: its version, its files and the AST of each
// markdown document, kept current by the stream's events.  The same code
// runs in the shared worker (or the leader tab), which keeps one copy per
// item to hand to tabs that join late, and in every tab.
//
// Messages between the holder of the stream and the tabs (structured
// clones; Maps travel as arrays of pairs):
//   {t: 'snapshot', version, files: [FILE], docs: [[path, AST]], checks: [FINDING]}
//   {t: 'update', version, base_version, docs: [[path, AST]], assets: [FILE], removed: [path],
//    checks: [FINDING]}
//   {t: 'deleted'}
//   {t: 'status', state, detail}   state: connecting | live | reconnecting | offline |
//                                         deleted | unauthorized | not-found
// Maps keyed by path, never plain objects: a path may be "__proto__".
//
// A document of the stream is its AST, or — when the stream was not asked
// for it in full (?documents=, docs/api.md) — a stub {title, toc} with no
// body; the tab fetches the AST of a stub it shows.

export function newItemState() {
  return { version: -1, files: new Map(), docs: new Map(), checks: [], deleted: false };
}

// The stream's snapshot event data → a message.
export function snapshotMessage(d) {
  return {
    t: 'snapshot',
    version: d.version,
    files: Array.isArray(d.files) ? d.files : [],
    docs: Object.entries(d.documents && typeof d.documents === 'object' ? d.documents : {}),
    checks: findingsOf(d),
  };
}

// The version's findings (docs/checks.md) of an event: the well-formed ones.
function findingsOf(d) {
  const list = Array.isArray(d.checks) ? d.checks : [];
  return list.filter((f) => f && typeof f.path === 'string' && typeof f.message === 'string');
}

// The stream's update event data → a message.
export function updateMessage(d) {
  return {
    t: 'update',
    version: d.version,
    base_version: d.base_version,
    docs: Object.entries(d.documents && typeof d.documents === 'object' ? d.documents : {}),
    assets: Array.isArray(d.assets) ? d.assets : [],
    removed: Array.isArray(d.removed) ? d.removed : [],
    checks: findingsOf(d),
  };
}

export function applySnapshot(st, m) {
  st.version = m.version;
  st.files = new Map(m.files.filter((f) => f && typeof f.path === 'string').map((f) => [f.path, f]));
  st.docs = new Map(m.docs);
  st.checks = m.checks || [];
  st.deleted = false;
}

// Applies an update; false when it does not follow the version held (the
// holder must then get a snapshot).
export function applyUpdate(st, m) {
  if (m.base_version !== st.version) return false;
  for (const [path, ast] of m.docs) st.docs.set(path, ast);
  for (const f of m.assets) if (f && typeof f.path === 'string') st.files.set(f.path, f);
  for (const path of m.removed) {
    st.docs.delete(path);
    st.files.delete(path);
  }
  st.checks = m.checks || [];
  st.version = m.version;
  return true;
}

// The whole state as a snapshot message (for a tab that joins).
export function stateMessage(st) {
  return {
    t: 'snapshot', version: st.version, files: [...st.files.values()], docs: [...st.docs],
    checks: st.checks,
  };
}

export function isStub(doc) {
  return !doc || typeof doc !== 'object' || !('body' in doc);
}

// A document's title, from its AST's front matter or its stub; '' if none.
export function docTitle(doc) {
  if (!doc || typeof doc !== 'object') return '';
  const t = isStub(doc) ? doc.title : doc.data && doc.data.title;
  return typeof t === 'string' ? t : '';
}

// Document paths in the sidebar's order: index.md first, then by path.
export function docOrder(docs) {
  return [...docs.keys()].sort((a, b) => {
    if (a === 'index.md' || b === 'index.md') return a === 'index.md' ? -1 : 1;
    return a < b ? -1 : a > b ? 1 : 0;
  });
}
