// SPDX-License-Identifier: MIT
// One item's event stream: the EventSource, the item state it keeps
// current, the connection state, and getting back after a failure.
//
// An ItemSource runs where the one connection of the browser lives: in the
// shared worker (worker.js), or in the leader tab when there is no shared
// worker (leader.js).  emit(msg) hands every message (store.js) to the tabs.
//
// Reconnecting: while the stream is merely cut (the server restarts, the
// network drops) EventSource reconnects by itself every `retry` ms (2 s)
// with Last-Event-ID, and the server answers with one update from that
// version.  When the browser gives up (an HTTP error, e.g. 503 while the
// server shuts down), the source asks the stream's address why: 401 and 404 are
// reported and retried slowly; anything else is retried with a growing
// delay, opening a new EventSource with ?last_event_id= (a new EventSource
// cannot set the header).  An update that does not follow the version held
// asks for a fresh snapshot.

import {
  applySnapshot, applyUpdate, newItemState, snapshotMessage, stateMessage, updateMessage,
} from './store.js';
import { eventsUrl } from './urls.js';

const OFFLINE_AFTER_MS = 15000; // reconnecting this long: say offline
const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 10000;
const RETRY_REFUSED_MS = 10000; // after a 401 or 404
const LINK_PREFIX = 'cdl_'; // a share link's token (HTTP_LINK_PREFIX)

export class ItemSource {
  // item: {kind, name}; seed: an item state to continue from (a tab that
  // becomes the leader), or null; documents: the paths the stream carries
  // whole (the document the first tab shows), or null for all.
  constructor(item, token, emit, seed, documents = null) {
    this.item = item;
    this.token = token;
    this.documents = documents;
    this.emit = emit;
    this.state = seed || newItemState();
    this.status = { t: 'status', state: 'connecting', detail: '' };
    this.es = null;
    this.timer = 0;
    this.offlineTimer = 0;
    this.failures = 0;
    this.closed = false;
    this.onOnline = () => this.online();
    this.onOffline = () => this.setStatus('offline', 'the browser is offline');
    self.addEventListener('online', this.onOnline);
    self.addEventListener('offline', this.onOffline);
  }

  start() {
    this.open(this.state.version > 0 ? this.state.version : 0);
  }

  // The messages a tab that joins now needs.
  joinMessages() {
    const out = [];
    if (this.state.version >= 0) out.push(stateMessage(this.state));
    if (this.state.deleted) out.push({ t: 'deleted' });
    out.push(this.status);
    return out;
  }

  resyncMessage() {
    return stateMessage(this.state);
  }

  close() {
    this.closed = true;
    clearTimeout(this.timer);
    clearTimeout(this.offlineTimer);
    if (this.es) this.es.close();
    this.es = null;
    self.removeEventListener('online', this.onOnline);
    self.removeEventListener('offline', this.onOffline);
  }

  setStatus(state, detail = '') {
    if (state === 'reconnecting' && this.status.state === 'offline') return; // stays offline
    if (state !== 'reconnecting' && state !== 'offline') clearTimeout(this.offlineTimer);
    if (state === 'reconnecting' && this.status.state !== 'reconnecting') {
      clearTimeout(this.offlineTimer);
      this.offlineTimer = setTimeout(() => {
        if (this.status.state === 'reconnecting') this.setStatus('offline', 'the server does not answer');
      }, OFFLINE_AFTER_MS);
    }
    if (this.status.state === state && this.status.detail === detail) return;
    this.status = { t: 'status', state, detail };
    this.emit(this.status);
  }

  open(lastId) {
    if (this.closed) return;
    clearTimeout(this.timer);
    if (this.es) this.es.close();
    const es = new EventSource(eventsUrl(this.item, this.token, lastId, this.documents));
    this.es = es;
    es.addEventListener('open', () => {
      this.failures = 0;
      this.setStatus('live');
    });
    es.addEventListener('snapshot', (e) => this.onSnapshot(e));
    es.addEventListener('update', (e) => this.onUpdate(e));
    es.addEventListener('deleted', () => this.onDeleted());
    // A comment added or resolved: the tabs fetch the list again.
    es.addEventListener('comment', (e) => {
      const m = parse(e.data, (d) => (d.comment && typeof d.comment === 'object'
        ? { t: 'comment', id: d.comment.id } : null));
      if (m) this.emit(m);
    });
    es.addEventListener('error', () => {
      if (this.es !== es) return;
      if (es.readyState === EventSource.CLOSED) {
        this.es = null;
        this.diagnose();
      } else {
        this.setStatus('reconnecting', navigator.onLine === false ? 'the browser is offline' : '');
      }
    });
  }

  onSnapshot(e) {
    const m = parse(e.data, snapshotMessage);
    if (!m) return;
    applySnapshot(this.state, m);
    this.emit(m);
  }

  onUpdate(e) {
    const m = parse(e.data, updateMessage);
    if (!m) return;
    if (m.version <= this.state.version) return; // seen already
    if (!applyUpdate(this.state, m)) {
      this.open(0); // a gap: start again from a snapshot
      return;
    }
    this.emit(m);
  }

  onDeleted() {
    this.state.deleted = true;
    if (this.es) this.es.close();
    this.es = null;
    this.emit({ t: 'deleted' });
    this.setStatus('deleted');
  }

  // The browser closed the stream for good: ask the server why, then
  // retry.  The question goes to the stream's own address, which answers
  // whoever may open the stream (a share link too, which may read no item
  // endpoint) with the status the EventSource does not show; the body is
  // dropped as soon as the status is known.
  async diagnose() {
    let status = 0;
    const ctl = new AbortController();
    try {
      const lastId = this.state.version > 0 ? this.state.version : 0;
      const url = eventsUrl(this.item, this.token, lastId, this.documents);
      const r = await fetch(url, { cache: 'no-store', signal: ctl.signal });
      status = r.status;
    } catch {
      status = 0; // the server does not answer
    }
    ctl.abort();
    if (this.closed) return;
    if (status === 401) {
      this.setStatus('unauthorized', 'this server needs a token');
      this.retry(RETRY_REFUSED_MS);
    } else if (status === 404) {
      const link = typeof this.token === 'string' && this.token.startsWith(LINK_PREFIX);
      this.setStatus('not-found', link ? 'the link was revoked or has expired, or the item is gone'
        : 'no such item, or not yours');
      this.retry(RETRY_REFUSED_MS);
    } else {
      this.setStatus('reconnecting', status ? `HTTP ${status}` : 'the server does not answer');
      this.failures++;
      this.retry(Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** Math.min(this.failures, 5)));
    }
  }

  retry(ms) {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.open(this.state.version > 0 ? this.state.version : 0), ms);
  }

  online() {
    if (this.status.state === 'offline') this.setStatus('reconnecting');
    if (!this.es && !this.closed) this.open(this.state.version > 0 ? this.state.version : 0);
  }
}

function parse(data, make) {
  try {
    const d = JSON.parse(data);
    return d && typeof d === 'object' ? make(d) : null;
  } catch {
    return null;
  }
}
