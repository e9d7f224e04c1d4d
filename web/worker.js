// SPDX-License-Identifier: MIT
// The shared worker: one event stream per item for every preview tab of the
// browser.  Over HTTP/1.1 a browser opens at most six connections to a host
// across all its tabs; one stream per tab would stall an author's seventh
// tab.  Tabs connect to this worker (same script URL and name), subscribe
// to an item, and get its messages (store.js) fanned out; a tab that joins
// gets the item's current state at once, without a request.
//
// Tabs say when they go (pagehide); a port can also report `close` in
// browsers that support it.  The stream of an item closes with its last tab.
// It carries whole the document its first tab shows (the others as stubs,
// which a tab showing one fetches whole).

import { ItemSource } from './source.js';

const items = new Map(); // key → {source, ports: Set}
const portKey = new Map(); // port → key

function keyOf(m) {
  return `${m.kind}/${m.name}\n${m.token || ''}`;
}

function subscribe(port, m) {
  unsubscribe(port);
  const key = keyOf(m);
  let it = items.get(key);
  if (!it) {
    const ports = new Set();
    const docs = [typeof m.path === 'string' && m.path ? m.path : 'index.md'];
    const source = new ItemSource({ kind: m.kind, name: m.name }, m.token || '', (msg) => {
      for (const p of ports) p.postMessage(msg);
    }, null, docs);
    it = { source, ports };
    items.set(key, it);
    source.start();
  }
  it.ports.add(port);
  portKey.set(port, key);
  for (const msg of it.source.joinMessages()) port.postMessage(msg);
}

function unsubscribe(port) {
  const key = portKey.get(port);
  if (key === undefined) return;
  portKey.delete(port);
  const it = items.get(key);
  if (!it) return;
  it.ports.delete(port);
  if (it.ports.size === 0) {
    it.source.close();
    items.delete(key);
  }
}

self.addEventListener('connect', (e) => {
  const port = e.ports[0];
  port.addEventListener('message', (ev) => {
    const m = ev.data || {};
    if (m.t === 'subscribe' && typeof m.kind === 'string' && typeof m.name === 'string') {
      subscribe(port, m);
    } else if (m.t === 'unsubscribe') {
      unsubscribe(port);
    } else if (m.t === 'resync') {
      const it = items.get(portKey.get(port));
      if (it) port.postMessage(it.source.resyncMessage());
    }
  });
  port.addEventListener('close', () => unsubscribe(port));
  port.start();
});
