// SPDX-License-Identifier: MIT
// The AST document (docs/ast.md) to DOM.
//
// Everything is built with createElement / createElementNS, createTextNode
// and setAttribute, from allow-lists: an HTML element the page knows is
// created with the attributes allowed on it; any other tag is an MDC
// component and is shown as a labelled box listing its props and slots;
// inline SVG is rebuilt from an SVG allow-list.  No string of the document
// is ever parsed as HTML, no event handler, style or name attribute is set,
// and every URL goes through urls.js.  The components authors use most
// (callouts, collapsibles, tabs, code groups) get their own look from
// components.js.
//
// ctx: {item: {kind, name}, docPath, token, docs: Set of document paths,
//       files: Map path → file, images: WeakMap img → asset path}

import { renderKnown } from './components.js';
import { resolveUrl } from './urls.js';

const SVG_NS = 'http://www.w3.org/2000/svg';

// HTML elements created as themselves (anything else is a component box).
const HTML_TAGS = new Set([
  'a', 'abbr', 'address', 'article', 'aside', 'audio', 'b', 'bdi', 'bdo', 'blockquote', 'br',
  'button', 'caption', 'cite', 'code', 'col', 'colgroup', 'data', 'dd', 'del', 'details', 'dfn',
  'div', 'dl', 'dt', 'em', 'figcaption', 'figure', 'footer', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6',
  'header', 'hgroup', 'hr', 'i', 'img', 'input', 'ins', 'kbd', 'label', 'li', 'main', 'mark',
  'nav', 'ol', 'p', 'picture', 'pre', 'q', 'rp', 'rt', 'ruby', 's', 'samp', 'section', 'small',
  'source', 'span', 'strong', 'sub', 'summary', 'sup', 'table', 'tbody', 'td', 'tfoot', 'th',
  'thead', 'time', 'tr', 'u', 'ul', 'var', 'video', 'wbr',
]);

// Attributes allowed on every HTML element, then per element.  URLs (href,
// src, poster) are handled apart.
const GLOBAL_ATTRS = new Set(['id', 'class', 'title', 'lang', 'dir', 'role', 'hidden', 'translate']);
const TAG_ATTRS = {
  a: ['hreflang'],
  img: ['alt', 'width', 'height', 'loading', 'decoding'],
  ol: ['start', 'reversed', 'type'],
  li: ['value'],
  td: ['align', 'colspan', 'rowspan', 'headers', 'valign'],
  th: ['align', 'colspan', 'rowspan', 'headers', 'scope', 'abbr', 'valign'],
  col: ['span'],
  colgroup: ['span'],
  p: ['align'],
  div: ['align'],
  details: ['open'],
  time: ['datetime'],
  data: ['value'],
  del: ['datetime'],
  ins: ['datetime'],
  label: ['for'],
  abbr: ['title'],
  video: ['controls', 'loop', 'muted', 'playsinline', 'width', 'height', 'preload'],
  audio: ['controls', 'loop', 'muted', 'preload'],
  source: ['type', 'media', 'width', 'height'],
  input: ['checked'],
  button: [],
};

// Elements that make a block: a component holding one is a block box.
const BLOCK_TAGS = new Set([
  'address', 'article', 'aside', 'blockquote', 'details', 'div', 'dl', 'figure', 'footer', 'h1',
  'h2', 'h3', 'h4', 'h5', 'h6', 'header', 'hr', 'main', 'nav', 'ol', 'p', 'pre', 'section',
  'table', 'template', 'ul', 'video', 'audio',
]);
// Parents in which a component without block content is shown inline.
const PHRASING_PARENTS = new Set([
  'p', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'span', 'a', 'em', 'strong', 'b', 'i', 'u', 's', 'del',
  'ins', 'mark', 'small', 'sub', 'sup', 'code', 'kbd', 'samp', 'var', 'q', 'cite', 'abbr', 'dfn',
  'label', 'summary', 'li', 'td', 'th', 'dt', 'dd', 'figcaption', 'caption', 'button', 'time',
]);

// SVG: elements, attributes (as SVG spells them), and the hast property
// names that keep their camelCase (the others become kebab-case).
const SVG_TAGS = new Set([
  'svg', 'g', 'path', 'circle', 'ellipse', 'line', 'polyline', 'polygon', 'rect', 'text',
  'tspan', 'textPath', 'defs', 'linearGradient', 'radialGradient', 'stop', 'clipPath', 'mask',
  'symbol', 'use', 'title', 'desc', 'marker', 'pattern',
]);
const SVG_CAMEL = new Set([
  'viewBox', 'preserveAspectRatio', 'gradientUnits', 'gradientTransform', 'patternUnits',
  'patternContentUnits', 'patternTransform', 'clipPathUnits', 'markerUnits', 'markerWidth',
  'markerHeight', 'refX', 'refY', 'pathLength', 'maskUnits', 'maskContentUnits', 'spreadMethod',
  'textLength', 'lengthAdjust', 'startOffset',
]);
const SVG_ATTRS = new Set([
  ...SVG_CAMEL, 'id', 'class', 'role', 'd', 'cx', 'cy', 'r', 'rx', 'ry', 'x', 'y', 'x1', 'y1',
  'x2', 'y2', 'dx', 'dy', 'width', 'height', 'points', 'fill', 'fill-opacity', 'fill-rule',
  'clip-rule', 'stroke', 'stroke-width', 'stroke-linecap', 'stroke-linejoin',
  'stroke-dasharray', 'stroke-dashoffset', 'stroke-opacity', 'stroke-miterlimit', 'opacity',
  'transform', 'offset', 'stop-color', 'stop-opacity', 'font-size', 'font-family',
  'font-weight', 'font-style', 'text-anchor', 'dominant-baseline', 'clip-path', 'mask',
  'marker-start', 'marker-mid', 'marker-end', 'orient', 'rotate', 'vector-effect', 'visibility',
  'display', 'xmlns', 'version', 'focusable',
]);

const ATTR_NAME = /^[a-z][a-z0-9-]*$/;
const OUR_CLASS = /^cp-/; // the page's own classes (and data-cp-*): content cannot borrow them

const createElement = Document.prototype.createElement.bind(document);
const createElementNS = Document.prototype.createElementNS.bind(document);
const createTextNode = Document.prototype.createTextNode.bind(document);

export function h(tag, className, ...children) {
  const el = createElement(tag);
  if (className) el.className = className;
  for (const c of children) el.append(typeof c === 'string' ? createTextNode(c) : c);
  return el;
}

export function text(s) {
  return createTextNode(String(s));
}

// hast property name → HTML attribute name.
function htmlAttrName(prop) {
  if (prop === 'className') return 'class';
  if (prop === 'htmlFor') return 'for';
  const m = /^(aria|data)([A-Z].*)$/.exec(prop);
  if (m) return m[1] + m[2].replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
  return prop.toLowerCase();
}

function svgAttrName(prop) {
  if (prop === 'className') return 'class';
  if (SVG_CAMEL.has(prop)) return prop;
  return prop.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
}

// A prop value as an attribute value; null: leave the attribute out.
function attrValue(v) {
  if (v === true) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (Array.isArray(v)) return v.filter((x) => typeof x === 'string' || typeof x === 'number').join(' ');
  return null;
}

function htmlAttrAllowed(tag, name) {
  if (GLOBAL_ATTRS.has(name)) return true;
  if (/^(aria|data)-[a-z0-9-]+$/.test(name)) return !name.startsWith('data-cp-'); // ours

  const own = TAG_ATTRS[tag];
  return !!own && own.includes(name);
}

function setAttr(el, name, value) {
  if (name === 'class') {
    value = value.split(/\s+/).filter((c) => c && !OUR_CLASS.test(c)).join(' ');
    if (!value) return;
  }
  el.setAttribute(name, value);
}

function setHtmlProps(el, tag, props) {
  for (const [prop, v] of Object.entries(props || {})) {
    const name = htmlAttrName(prop);
    if (!ATTR_NAME.test(name) || !htmlAttrAllowed(tag, name)) continue;
    const value = attrValue(v);
    if (value !== null) setAttr(el, name, value);
  }
}

function isElement(n) {
  return n && n.type === 'element' && typeof n.tag === 'string';
}

function kids(n) {
  return Array.isArray(n.children) ? n.children : [];
}

// The plain text of a node.
export function textOf(n) {
  if (!n) return '';
  if (n.type === 'text') return String(n.value ?? '');
  return kids(n).map(textOf).join('');
}

function isComponent(tag) {
  return !HTML_TAGS.has(tag) && tag !== 'svg' && tag !== 'template';
}

function hasBlockChild(n) {
  return kids(n).some((c) => isElement(c) &&
    (BLOCK_TAGS.has(c.tag) || (isComponent(c.tag) && hasBlockChild(c))));
}

function renderChildren(el, n, ctx, parentTag) {
  for (const c of kids(n)) {
    const d = renderNode(c, ctx, parentTag);
    if (d) el.append(d);
  }
  return el;
}

// One node of the tree; parentTag says where it sits (inline or block).
function renderNode(n, ctx, parentTag) {
  if (!n || typeof n !== 'object') return null;
  if (n.type === 'text') return text(n.value ?? '');
  if (!isElement(n)) return null;
  const tag = n.tag;
  switch (tag) {
    case 'svg': return renderSvg(n, ctx);
    case 'pre': return n.props && typeof n.props.code === 'string' ? renderCode(n) : renderHtml(n, ctx);
    case 'img': return renderImage(n, ctx);
    case 'a': return renderLink(n, ctx);
    case 'input': return renderInput(n);
    case 'video': case 'audio': return renderMedia(n, ctx);
    case 'source': return null; // only inside video/audio, handled there
    case 'template': return renderSlot(n, ctx, slotName(n.props), false);
    case 'details': return renderKnown(n, ctx, KNOWN) || renderHtml(n, ctx);
    default:
      return HTML_TAGS.has(tag) ? renderHtml(n, ctx) : renderComponent(n, ctx, parentTag);
  }
}

function renderHtml(n, ctx) {
  const el = createElement(n.tag);
  setHtmlProps(el, n.tag, n.props);
  if (n.tag === 'button') {
    el.setAttribute('type', 'button');
    el.disabled = true;
  }
  return renderChildren(el, n, ctx, n.tag);
}

// Inputs are shown, never used: always disabled, and only of the types
// that fetch nothing and submit nothing (no image, file, submit).
const INPUT_TYPES = new Set([
  'checkbox', 'radio', 'text', 'search', 'email', 'url', 'tel', 'number', 'range', 'color',
  'date', 'time', 'datetime-local', 'month', 'week', 'password',
]);

function renderInput(n) {
  const p = n.props || {};
  const type = typeof p.type === 'string' && INPUT_TYPES.has(p.type.toLowerCase()) ? p.type.toLowerCase() : 'text';
  const el = createElement('input');
  el.setAttribute('type', type);
  if (p.checked === true || p.checked === '') el.setAttribute('checked', '');
  for (const prop of ['value', 'placeholder']) {
    if (typeof p[prop] === 'string' || typeof p[prop] === 'number') el.setAttribute(prop, String(p[prop]));
  }
  el.setAttribute('disabled', '');
  setHtmlProps(el, 'input', { id: p.id, className: p.className, title: p.title });
  return el;
}

function renderLink(n, ctx) {
  const el = createElement('a');
  setHtmlProps(el, 'a', n.props);
  const p = n.props || {};
  const r = resolveUrl(p.href, ctx, 'link');
  if (r) {
    el.setAttribute('href', r.href);
    if (r.type === 'external') {
      el.setAttribute('target', '_blank');
      const rel = new Set(['noopener', 'noreferrer']);
      for (const x of [].concat(p.rel || [])) if (x === 'nofollow') rel.add(x);
      el.setAttribute('rel', [...rel].join(' '));
    } else if (r.type === 'doc') {
      el.setAttribute('data-cp-doc', r.path); // the page navigates without a reload
    } else if (r.type === 'asset') {
      el.setAttribute('target', '_blank');
      el.setAttribute('rel', 'noopener noreferrer');
    }
  } else if (p.href !== undefined) {
    el.classList.add('cp-dropped-url');
    el.setAttribute('title', 'link removed: not an allowed URL');
  }
  return renderChildren(el, n, ctx, 'a');
}

// An image from outside the item and this server would be blocked by the
// page's Content-Security-Policy; it is shown as a labelled placeholder.
function blockedMedia(what, url, alt) {
  const box = h('span', 'cp-blocked', h('span', 'cp-blocked-what', what));
  if (alt) box.append(h('span', 'cp-blocked-alt', alt));
  if (url) box.append(h('span', 'cp-blocked-url', url));
  return box;
}

function renderImage(n, ctx) {
  const p = n.props || {};
  const r = resolveUrl(p.src, ctx, 'image');
  if (!r || r.type === 'external') {
    return blockedMedia(r ? 'external image (not loaded in the preview)' : 'image removed: not an allowed URL',
      r ? r.href : '', typeof p.alt === 'string' ? p.alt : '');
  }
  const el = createElement('img');
  setHtmlProps(el, 'img', p);
  el.setAttribute('src', r.href);
  if (r.type === 'asset') ctx.images.set(el, r.path);
  return el;
}

function renderMedia(n, ctx) {
  const el = createElement(n.tag);
  setHtmlProps(el, n.tag, n.props);
  el.setAttribute('controls', '');
  const p = n.props || {};
  const setSrc = (target, attr, raw, use) => {
    const r = resolveUrl(raw, ctx, use);
    if (r && r.type !== 'external' && r.type !== 'data') target.setAttribute(attr, r.href);
  };
  setSrc(el, 'src', p.src, 'image');
  if (n.tag === 'video') setSrc(el, 'poster', p.poster, 'image');
  for (const c of kids(n)) {
    if (isElement(c) && c.tag === 'source') {
      const s = createElement('source');
      setHtmlProps(s, 'source', c.props);
      setSrc(s, 'src', (c.props || {}).src, 'image');
      el.append(s);
    } else {
      const d = renderNode(c, ctx, n.tag);
      if (d) el.append(d);
    }
  }
  return el;
}

// A fenced code block: filename, language, and numbered lines, the
// highlighted ones marked.
function renderCode(n) {
  const p = n.props;
  const fig = h('figure', 'cp-code');
  const head = h('figcaption', 'cp-code-head');
  if (typeof p.filename === 'string' && p.filename) head.append(h('span', 'cp-code-file', p.filename));
  if (typeof p.language === 'string' && p.language) head.append(h('span', 'cp-code-lang', p.language));
  if (typeof p.meta === 'string' && p.meta) head.append(h('span', 'cp-code-meta', p.meta));
  if (head.childNodes.length) fig.append(head);
  const hl = new Set(Array.isArray(p.highlights) ? p.highlights.filter(Number.isInteger) : []);
  const code = createElement('code');
  const body = p.code.endsWith('\n') ? p.code.slice(0, -1) : p.code;
  body.split('\n').forEach((line, i) => {
    const span = h('span', hl.has(i + 1) ? 'cp-line cp-hl' : 'cp-line', line);
    span.setAttribute('data-line', String(i + 1));
    code.append(span, text('\n'));
  });
  fig.append(h('pre', 'cp-pre', code));
  return fig;
}

function slotName(props) {
  for (const k of Object.keys(props || {})) {
    if (k.startsWith('v-slot:')) return k.slice(7) || 'default';
    if (k.startsWith('#')) return k.slice(1) || 'default';
  }
  return 'default';
}

function renderSlot(n, ctx, name, inline) {
  const box = h(inline ? 'span' : 'div', 'cp-slot', h('span', 'cp-slot-name', '#' + name));
  return renderChildren(box, n, ctx, inline ? 'span' : 'div');
}

function propText(v) {
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

// An MDC component: a box labelled with its name and props; the default
// slot as its body, each named slot in a labelled section.
function renderComponent(n, ctx, parentTag) {
  const inline = PHRASING_PARENTS.has(parentTag) && !hasBlockChild(n);
  const known = inline ? null : renderKnown(n, ctx, KNOWN);
  if (known) return known;
  const tagName = inline ? 'span' : 'div';
  const box = h(tagName, inline ? 'cp-comp cp-comp-inline' : 'cp-comp');
  const head = h(tagName, 'cp-comp-head', h('span', 'cp-comp-name', n.tag));
  for (const [k, v] of Object.entries(n.props || {})) {
    head.append(h('span', 'cp-comp-prop', h('span', 'cp-comp-key', k), h('span', 'cp-comp-val', propText(v))));
  }
  box.append(head);
  const body = h(tagName, 'cp-comp-body');
  for (const c of kids(n)) {
    if (isElement(c) && c.tag === 'template') {
      box.append(renderSlot(c, ctx, slotName(c.props), inline));
      continue;
    }
    const d = renderNode(c, ctx, inline ? 'span' : 'div');
    if (d) body.append(d);
  }
  if (body.childNodes.length) head.after(body);
  return box;
}

// What components.js renders children with.
const KNOWN = { h, node: renderNode, slotName };

function renderSvg(n, ctx) {
  if (!SVG_TAGS.has(n.tag)) return null;
  const el = createElementNS(SVG_NS, n.tag);
  for (const [prop, v] of Object.entries(n.props || {})) {
    const name = svgAttrName(prop);
    if (name === 'xmlns' || !SVG_ATTRS.has(name)) continue;
    const value = attrValue(v);
    if (value === null) continue;
    if (/url\(/i.test(value) && !/^url\(\s*['"]?#[^)]*\)$/i.test(value.trim())) continue; // only url(#id)
    setAttr(el, name, value);
  }
  const href = (n.props || {}).href ?? (n.props || {}).xlinkHref;
  if (n.tag === 'use' && typeof href === 'string' && /^#[^\s]*$/.test(href)) el.setAttribute('href', href);
  for (const c of kids(n)) {
    if (c && c.type === 'text') el.append(text(c.value ?? ''));
    else if (isElement(c)) {
      const d = renderSvg(c, ctx);
      if (d) el.append(d);
    }
  }
  return el;
}

// One top-level block of the body: always exactly one DOM node, so that the
// page can replace blocks one for one (patch.js).
export function renderBlock(n, ctx) {
  return renderNode(n, ctx, 'root') || h('div', 'cp-skipped');
}

// The table of contents: nested lists of links to heading ids.
export function renderToc(links) {
  const ul = h('ul', 'cp-toc-list');
  for (const l of Array.isArray(links) ? links : []) {
    if (!l || typeof l.id !== 'string') continue;
    const a = h('a', null, typeof l.text === 'string' ? l.text : l.id);
    a.setAttribute('href', '#' + l.id);
    const li = h('li', `cp-toc-d${Number.isInteger(l.depth) ? l.depth : 2}`, a);
    if (Array.isArray(l.children) && l.children.length) li.append(renderToc(l.children));
    ul.append(li);
  }
  return ul;
}

// The front matter (`data`) as a list of keys and values, as text.
export function renderData(data) {
  const dl = h('dl', 'cp-data');
  for (const [k, v] of Object.entries(data && typeof data === 'object' ? data : {})) {
    dl.append(h('dt', null, k), h('dd', null, typeof v === 'string' ? v : JSON.stringify(v)));
  }
  return dl;
}
