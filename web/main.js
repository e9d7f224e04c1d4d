// SPDX-License-Identifier: MIT
// The preview page's entry point: takes the token out of the address bar,
// reads which item and document to show from the address, and connects the
// page to the item's messages.

import { connect } from './connect.js';
import { Page, parseRoute } from './page.js';
import { showBadAddress } from './states.js';

const TOKEN_KEY = 'contentd-preview-token';

// ?access_token= is moved out of the address bar (history, bookmarks and
// screen shares would show it) into this tab's sessionStorage, where a
// reload finds it again.  The page still sends it: as ?access_token= to the
// event stream and to file URLs (EventSource and <img> cannot send an
// Authorization header), as a bearer token to fetch().
function takeToken() {
  const url = new URL(location.href);
  const given = url.searchParams.get('access_token');
  if (given !== null) {
    url.searchParams.delete('access_token');
    history.replaceState(history.state, '', url.pathname + url.search + url.hash);
  }
  try {
    if (given) sessionStorage.setItem(TOKEN_KEY, given);
    return given || sessionStorage.getItem(TOKEN_KEY) || '';
  } catch {
    return given || ''; // no storage (disabled): this load only
  }
}

function main() {
  const token = takeToken();
  const route = parseRoute(location.pathname);
  if (!route) {
    showBadAddress(token);
    return;
  }
  const item = { kind: route.kind, name: route.name };
  const page = new Page(item, token, route.path);
  let conn = null;
  const start = () => {
    const c = connect(item, token, (m) => {
      page.receive(m);
      if (m.t === 'status') page.setTransport(c.mode);
    });
    conn = c;
    page.resync = () => c.resync();
    page.setTransport(c.mode);
  };
  start();
  // A page kept in the back/forward cache gives its stream back and takes
  // it again when shown.
  window.addEventListener('pagehide', () => {
    if (conn) conn.close();
    conn = null;
  });
  window.addEventListener('pageshow', (e) => {
    if (e.persisted && !conn) start();
  });
}

main();
