// SPDX-License-Identifier: MIT
// The fallback where the browser has no SharedWorker: the preview tabs of
// an item elect one leader, which holds the item's one event stream and
// passes every message to the others over a BroadcastChannel.
//
// Election: with Web Locks (navigator.locks), the leader is the tab that
// holds the item's lock; the others wait in the lock's queue, and the next
// one takes over the moment the leader's tab goes.  Without Web Locks, a
// lease in localStorage that the leader renews every second; a follower
// takes a lease that has run out (or that its holder gave back on leaving).
// A tab that becomes the leader continues from the state it had followed,
// so its new stream starts with Last-Event-ID and brings only what changed.
//
// Followers announce themselves ('hello') and the leader answers them with
// its state; duplicate messages (two leaders for a moment) are harmless,
// since tabs ignore versions they have.

import { ItemSource } from './source.js';
import { applySnapshot, applyUpdate, newItemState } from './store.js';

const LEASE_MS = 5000;
const RENEW_MS = 1000;

// A short fingerprint of the token, so that tabs with different tokens
// (different users) do not share a stream.
function fingerprint(s) {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16);
}

export function connectBroadcast(item, token, deliver, path) {
  const key = `contentd-preview:${item.kind}/${item.name}:${fingerprint(token || '')}`;
  const tabId = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
  const channel = new BroadcastChannel(key);
  const state = newItemState(); // what this tab has followed
  let source = null;
  let release = null;
  let timer = 0;
  let closed = false;
  const useLocks = !!(navigator.locks && navigator.locks.request);

  // Every message this tab gets, from its own source or from the leader.
  const receive = (m) => {
    if (m.t === 'snapshot') applySnapshot(state, m);
    else if (m.t === 'update' && m.version > state.version) applyUpdate(state, m);
    deliver(m);
  };

  const lead = () => {
    if (source || closed) return;
    const seed = newItemState();
    if (state.version >= 0) applySnapshot(seed, { version: state.version, files: [...state.files.values()], docs: [...state.docs] });
    source = new ItemSource(item, token, (m) => {
      receive(m);
      channel.postMessage(m);
    }, seed, [path || 'index.md']);
    source.start();
  };

  channel.addEventListener('message', (e) => {
    const m = e.data || {};
    if (m.t === 'hello' || m.t === 'resync') {
      if (source) for (const x of source.joinMessages()) channel.postMessage({ ...x, to: m.from });
    } else if (m.t === 'leader-gone') {
      if (!useLocks) tryLease();
    } else if (!m.to || m.to === tabId) {
      receive(m);
    }
  });

  const leaseKey = `${key}:leader`;
  const readLease = () => {
    try {
      return JSON.parse(localStorage.getItem(leaseKey) || 'null');
    } catch {
      return null;
    }
  };
  const writeLease = () => {
    try {
      localStorage.setItem(leaseKey, JSON.stringify({ id: tabId, until: Date.now() + LEASE_MS }));
      return true;
    } catch {
      return false;
    }
  };
  function tryLease() {
    if (closed) return;
    if (source) {
      writeLease();
      return;
    }
    const cur = readLease();
    if (cur && cur.id !== tabId && cur.until > Date.now()) return;
    if (!writeLease()) {
      lead(); // no storage at all: every tab on its own
      return;
    }
    // Another tab may have written at the same moment: the last one wins.
    setTimeout(() => {
      const now = readLease();
      if (now && now.id === tabId) lead();
    }, 50);
  }

  const waiting = new AbortController(); // a tab that goes leaves the lock's queue
  if (useLocks) {
    navigator.locks.request(key, { signal: waiting.signal }, () => new Promise((resolve) => {
      release = resolve;
      lead();
    })).catch(() => lead()); // aborted (then closed: lead() does nothing), or no locks here
  } else {
    tryLease();
    timer = setInterval(tryLease, RENEW_MS);
  }
  channel.postMessage({ t: 'hello', from: tabId });

  return {
    mode: useLocks ? 'broadcast-locks' : 'broadcast-lease',
    resync() {
      if (source) deliver(source.resyncMessage());
      else channel.postMessage({ t: 'resync', from: tabId });
    },
    close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      if (source) {
        source.close();
        source = null;
        if (!useLocks) {
          try {
            if ((readLease() || {}).id === tabId) localStorage.removeItem(leaseKey);
          } catch { /* no storage */ }
          channel.postMessage({ t: 'leader-gone' });
        }
      }
      if (release) release();
      else waiting.abort();
      channel.close();
    },
  };
}
