// SPDX-License-Identifier: MIT
// What the page shows in place of a document while it has none to show:
// connecting, reconnecting or offline before the first snapshot, a token
// needed, an item that does not exist (a mistyped address) or was deleted.
// Once a document is on screen, a later state is a banner above it instead
// (page.js), so that the last version stays readable.

import { h } from './render.js';
import { previewUrl } from './urls.js';

// state → [heading, sentence]; null: the page keeps "Loading…".
function wording(state, id, detail) {
  const why = detail ? ` (${detail})` : '';
  switch (state) {
    case 'reconnecting':
      return ['Connecting…', `The server does not answer yet${why}. The page keeps trying and shows ${id} as soon as it does.`];
    case 'offline':
      return ['Offline', `The server cannot be reached${why}. The page keeps trying and shows ${id} once it is back.`];
    case 'unauthorized':
      return ['Token needed', `This server needs a token to show ${id}: open this address with ?access_token=TOKEN added. A token is created on the server with \`contentd token create USER\`.`];
    case 'not-found':
      return ['Not found', `There is no item ${id} on this server, or it is private to another user. Check the address: /preview/KIND/NAME, then optionally the path of a document.`];
    case 'deleted':
      return ['Deleted', `${id} was deleted.`];
    default:
      return null;
  }
}

// The panel for state, or null when the page should keep showing that it
// is loading.  item: {kind, name}.
export function statePanel(state, item, detail) {
  const w = wording(state, `${item.kind}/${item.name}`, detail);
  if (!w) return null;
  const box = h('section', 'cp-state', h('h1', 'cp-state-title', w[0]), h('p', 'cp-state-text', w[1]));
  box.setAttribute('data-cp-state', state);
  return box;
}

// An address that is not /preview/KIND/NAME[/PATH] (a malformed KIND or
// NAME): the page has no item to connect to, and says so as "not found".
export function showBadAddress(token) {
  const conn = document.querySelector('.cp-conn');
  conn.setAttribute('data-state', 'not-found');
  conn.textContent = 'not found';
  const box = h('section', 'cp-state', h('h1', 'cp-state-title', 'Not found'),
    h('p', 'cp-state-text', `${location.pathname} is not the address of a preview page: /preview/KIND/NAME, then optionally the path of a document, where KIND is tutorial, challenge, course, skill-path or roadmap, and NAME lower-case letters, digits and '-'.`));
  box.setAttribute('data-cp-state', 'not-found');
  document.querySelector('.cp-content').replaceChildren(box);
  document.title = 'Not found · preview';
  suggestItems(box, token);
}

// The panel's title for document.title.
export function stateTitle(state) {
  const w = wording(state, '', '');
  return w ? w[0] : 'Loading…';
}

// A not-found panel lists the items the reader can open instead (from the
// API's list, with the page's token), which is usually the address they
// meant.  Appends nothing when the list cannot be read or is empty.
export async function suggestItems(panel, token) {
  let items = [];
  try {
    const headers = token ? { Authorization: `Bearer ${token}` } : {};
    const r = await fetch('/api/v1/content', { headers, cache: 'no-store' });
    const body = r.ok ? await r.json() : null;
    items = body && Array.isArray(body.items) ? body.items : [];
  } catch {
    return;
  }
  items = items.filter((i) => i && typeof i.kind === 'string' && typeof i.name === 'string');
  if (!items.length || !panel.isConnected) return;
  const list = h('ul', 'cp-state-items');
  for (const i of items.slice(0, 50)) {
    const a = h('a', null, `${i.kind}/${i.name}`);
    a.setAttribute('href', previewUrl(i, null));
    const li = h('li', null, a);
    if (typeof i.title === 'string' && i.title && i.title !== i.name) li.append(h('span', 'cp-state-item-title', i.title));
    list.append(li);
  }
  panel.append(h('p', 'cp-state-text', 'Items you can open:'), list);
}
