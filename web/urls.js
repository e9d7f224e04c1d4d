// SPDX-License-Identifier: MIT
// URLs of the preview page: the API addresses of an item, and the check and
// resolution of every URL found in a document.
//
// The server already removes javascript:, vbscript:, livescript: and data:
// URLs (but data:image on images) from the AST; the page checks again, with
// an allow-list of schemes, because it must stay safe with whatever the
// stream sends it.  Relative URLs are resolved against the document's folder
// inside the item: a markdown document of the item becomes a preview link,
// any other file the item's files/ endpoint (with ?access_token= when the
// page has a token, since an <img> cannot send an Authorization header).

const VIRTUAL_HOST = 'item.invalid';
const LINK_SCHEMES = new Set(['http', 'https', 'mailto', 'tel']);
const IMAGE_DATA = /^data:image\/(?:png|gif|jpe?g|webp|avif|bmp|x-icon|svg\+xml)[;,]/i;

// Percent-encodes each segment of an item path.
export function encodePath(path) {
  return path.split('/').map(encodeURIComponent).join('/');
}

export function itemApi(item) {
  return `/api/v1/content/${encodeURIComponent(item.kind)}/${encodeURIComponent(item.name)}`;
}

// The address of the item's event stream; lastId > 0 asks for the events
// after that version (the server reads ?last_event_id= like Last-Event-ID);
// documents (an array of paths, or null for all) are the documents the
// stream carries whole, the others coming as stubs.
export function eventsUrl(item, token, lastId, documents) {
  const q = new URLSearchParams();
  if (token) q.set('access_token', token);
  if (lastId > 0) q.set('last_event_id', String(lastId));
  if (documents) q.set('documents', documents.join(','));
  const s = q.toString();
  return `${itemApi(item)}/events${s ? '?' + s : ''}`;
}

// The AST document of one file of version `version`.
export function astUrl(item, path, version) {
  return `${itemApi(item)}/ast/${encodePath(path)}${version > 0 ? `?version=${version}` : ''}`;
}

// The preview page of one document (index.md is the item's own address).
export function previewUrl(item, path) {
  const base = `/preview/${encodeURIComponent(item.kind)}/${encodeURIComponent(item.name)}`;
  return !path || path === 'index.md' ? base : `${base}/${encodePath(path)}`;
}

// The raw file; `sha` (when known) makes a changed asset a new URL, so the
// browser does not show its cached copy.
export function filesUrl(item, path, token, sha) {
  const q = new URLSearchParams();
  if (sha) q.set('v', sha.slice(0, 16));
  if (token) q.set('access_token', token);
  const s = q.toString();
  return `${itemApi(item)}/files/${encodePath(path)}${s ? '?' + s : ''}`;
}

// The scheme of a URL as a browser would read it (spaces and control
// characters anywhere in it ignored, any case), or '' when it has none.
export function schemeOf(raw) {
  const s = raw.replace(/[\u0000-\u0020\u007f-\u009f]/g, '');
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(s);
  return m ? m[1].toLowerCase() : '';
}

// Resolves a URL of document `ctx.docPath` for a link ('link') or an image
// or media source ('image').  Returns null when it must not be used, else
// {type, href[, path]} with type one of
//   'fragment' (#id in the page), 'doc' (another document of the item),
//   'asset' (a file of the item), 'origin' (/path on this server, left as
//   it is), 'external' (http, https, mailto, tel), 'data' (an image).
export function resolveUrl(raw, ctx, use) {
  if (typeof raw !== 'string') return null;
  const url = raw.trim();
  if (!url) return null;
  const scheme = schemeOf(url);
  if (scheme === 'data') {
    return use === 'image' && IMAGE_DATA.test(url.replace(/[\u0000-\u0020]/g, ''))
      ? { type: 'data', href: url } : null;
  }
  if (scheme) {
    if (!LINK_SCHEMES.has(scheme)) return null;
    try {
      return { type: 'external', href: new URL(url).href };
    } catch {
      return null;
    }
  }
  if (url.startsWith('#')) return { type: 'fragment', href: url };
  let u;
  try {
    u = new URL(url, `https://${VIRTUAL_HOST}/${encodePath(ctx.docPath)}`);
  } catch {
    return null;
  }
  if (u.host !== VIRTUAL_HOST) return { type: 'external', href: u.href }; // //host/…
  if (/^[/\\]/.test(url)) return { type: 'origin', href: u.pathname + u.search + u.hash };
  let path;
  try {
    path = decodeURIComponent(u.pathname.slice(1));
  } catch {
    return null;
  }
  if (!path) return { type: 'doc', path: 'index.md', href: previewUrl(ctx.item, 'index.md') };
  if (use === 'link' && ctx.docs.has(path)) {
    return { type: 'doc', path, hash: u.hash, href: previewUrl(ctx.item, path) + u.hash };
  }
  const file = ctx.files.get(path);
  const href = filesUrl(ctx.item, path, ctx.token, file && file.sha256);
  return { type: 'asset', path, href: use === 'link' ? href + u.hash : href };
}
