// SPDX-License-Identifier: MIT
// A tab's connection to its item's messages: through the shared worker
// (worker.js) when the browser has SharedWorker, else through the
// BroadcastChannel fallback (leader.js).  Either way the browser holds one
// event stream per item, whatever the number of tabs.
//
// connect(item, token, deliver, path) → {mode, resync(), close()};
// deliver(msg) gets every message of store.js; path is the document the
// tab shows (the stream it opens carries that one whole).

import { connectBroadcast } from './leader.js';

const WORKER_URL = new URL('./worker.js', import.meta.url);
const WORKER_NAME = 'contentd-preview';

function connectShared(item, token, deliver, fallback, path) {
  const worker = new SharedWorker(WORKER_URL, { type: 'module', name: WORKER_NAME });
  const port = worker.port;
  let heard = false;
  let replaced = null;
  port.addEventListener('message', (e) => {
    heard = true;
    if (!replaced) deliver(e.data);
  });
  // A worker that cannot start (blocked, failed to load) reports it on the
  // SharedWorker object: the tab then uses the fallback.
  worker.addEventListener('error', () => {
    if (heard || replaced) return;
    replaced = fallback();
  });
  port.start();
  port.postMessage({ t: 'subscribe', kind: item.kind, name: item.name, token, path });
  return {
    get mode() {
      return replaced ? replaced.mode : 'shared-worker';
    },
    resync() {
      if (replaced) replaced.resync();
      else port.postMessage({ t: 'resync' });
    },
    close() {
      if (replaced) replaced.close();
      port.postMessage({ t: 'unsubscribe' });
      port.close();
    },
  };
}

export function connect(item, token, deliver, path) {
  const fallback = () => connectBroadcast(item, token, deliver, path);
  if (typeof globalThis.SharedWorker === 'function') {
    try {
      return connectShared(item, token, deliver, fallback, path);
    } catch {
      // SharedWorker exists but may not be used here (e.g. SecurityError).
    }
  }
  return fallback();
}
