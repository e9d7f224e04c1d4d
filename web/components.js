// SPDX-License-Identifier: MIT
// A readable default look for the MDC components authors use most, the
// way a documentation theme would show them: callouts (note, tip,
// warning, caution, important, info, success, danger, and alert/callout
// with a type or colour), collapsible sections (collapsible, and details
// given a summary prop or slot), tabs and code groups, whose tabs switch in
// the page.  Every other component stays a labelled box (render.js).
//
// Built like the rest of the page: createElement, text nodes and
// setAttribute only, event listeners added in script (the page's policy
// allows no inline handler); every child goes through render.js's
// allow-lists.  Each box keeps its component's name in a small label, for
// the author.
//
// renderKnown(n, ctx, r) → a DOM node, or null when n is not one of these
// (or lacks what its look needs, e.g. tabs without a tab); r is render.js:
// {h, node(child, ctx, parentTag), slotName(props)}.

const VARIANTS = ['note', 'tip', 'important', 'warning', 'caution', 'info', 'success', 'danger'];
const LABELS = {
  note: 'Note', tip: 'Tip', important: 'Important', warning: 'Warning', caution: 'Caution',
  info: 'Info', success: 'Success', danger: 'Danger',
};
// alert/callout `type` or `color` (GitHub, Docus and Nuxt UI words) → variant.
const ALIASES = {
  primary: 'note', secondary: 'note', neutral: 'note', gray: 'note', blue: 'info',
  green: 'success', yellow: 'warning', orange: 'warning', amber: 'warning', red: 'danger',
  error: 'danger', purple: 'important', violet: 'important', hint: 'tip', check: 'success',
};
const TAB_ITEM_LABELS = ['label', 'title', 'name', 'filename'];

// A tab strip's chosen tab, by the labels it has: a patch renders the block
// again, and the reader's choice survives it (as do other strips with the
// same tabs).
const chosenTabs = new Map();

function isElement(n) {
  return n && n.type === 'element' && typeof n.tag === 'string';
}

function kids(n) {
  return Array.isArray(n.children) ? n.children : [];
}

function str(v) {
  return typeof v === 'string' && v.trim() ? v.trim() : '';
}

function firstProp(props, names) {
  for (const k of names) {
    const v = str((props || {})[k]);
    if (v) return v;
  }
  return '';
}

function nameLabel(r, tag) {
  return r.h('span', 'cp-known-name', tag);
}

// Renders nodes into el, skipping the named slots listed in skip.
function fill(el, nodes, ctx, r, skip = new Set()) {
  for (const c of nodes) {
    if (isElement(c) && c.tag === 'template' && skip.has(r.slotName(c.props))) continue;
    const d = r.node(c, ctx, 'div');
    if (d) el.append(d);
  }
  return el;
}

// The content of slot `name` (a template child), or null.
function slot(n, r, name) {
  return kids(n).find((c) => isElement(c) && c.tag === 'template' && r.slotName(c.props) === name) || null;
}

function variantOf(n) {
  if (VARIANTS.includes(n.tag)) return n.tag;
  const p = n.props || {};
  const t = (str(p.type) || str(p.color) || str(p.variant)).toLowerCase();
  if (VARIANTS.includes(t)) return t;
  return ALIASES[t] || '';
}

function callout(n, ctx, r) {
  const variant = variantOf(n);
  const box = r.h('div', `cp-callout cp-callout-${variant || 'plain'}`);
  box.setAttribute('role', 'note');
  const head = r.h('div', 'cp-callout-head');
  const titleSlot = slot(n, r, 'title');
  const title = r.h('span', 'cp-callout-title');
  if (titleSlot) {
    fill(title, kids(titleSlot), ctx, r);
  } else {
    const t = str((n.props || {}).title) || (variant && (VARIANTS.includes(n.tag) || n.tag === 'alert') ? LABELS[variant] : '');
    if (t) title.append(t);
  }
  head.append(title, nameLabel(r, n.tag));
  box.append(head, fill(r.h('div', 'cp-callout-body'), kids(n), ctx, r, new Set(['title'])));
  return box;
}

function collapsible(n, ctx, r) {
  const p = n.props || {};
  const el = r.h('details', 'cp-collapsible');
  if (p.open === true || p.open === '' || p.open === 'true') el.setAttribute('open', '');
  const summary = r.h('summary', 'cp-collapsible-summary');
  const s = slot(n, r, 'summary') || slot(n, r, 'title') || slot(n, r, 'label');
  if (s) fill(summary, kids(s), ctx, r);
  else summary.append(firstProp(p, ['summary', 'label', 'title', 'name']) || 'Details');
  summary.append(nameLabel(r, n.tag));
  el.append(summary, fill(r.h('div', 'cp-collapsible-body'), kids(n), ctx, r,
    new Set(['summary', 'title', 'label'])));
  return el;
}

// The tabs of a tabs component (element children, named slots) or of a
// code group (its code blocks): [{label, nodes}].
function tabsOf(n, r, code) {
  const out = [];
  for (const c of kids(n)) {
    if (!isElement(c)) continue;
    const p = c.props || {};
    let label;
    if (c.tag === 'template') label = r.slotName(p);
    else if (code) label = firstProp(p, ['filename', 'label', 'title', 'language']);
    else label = firstProp(p, TAB_ITEM_LABELS);
    const nodes = c.tag === 'template' || (!code && c.tag !== 'pre') ? kids(c) : [c];
    out.push({ label: label || `${code ? 'Code' : 'Tab'} ${out.length + 1}`, nodes });
  }
  return out;
}

// A tab strip: buttons that switch panels, with the arrow keys as well.
function tabs(n, ctx, r, code) {
  const items = tabsOf(n, r, code);
  if (!items.length) return null;
  const box = r.h('div', code ? 'cp-tabs cp-code-group' : 'cp-tabs');
  const list = r.h('div', 'cp-tab-list');
  list.setAttribute('role', 'tablist');
  const key = items.map((t) => t.label).join('\u0000');
  const buttons = [];
  const panels = [];
  const choose = (i, focus) => {
    buttons.forEach((b, k) => {
      b.setAttribute('aria-selected', String(k === i));
      b.tabIndex = k === i ? 0 : -1;
      panels[k].hidden = k !== i;
    });
    chosenTabs.set(key, items[i].label);
    if (focus) buttons[i].focus();
  };
  items.forEach((t, i) => {
    const b = r.h('button', 'cp-tab', t.label);
    b.setAttribute('type', 'button');
    b.setAttribute('role', 'tab');
    b.addEventListener('click', () => choose(i, false));
    buttons.push(b);
    const panel = fill(r.h('div', 'cp-tab-panel'), t.nodes, ctx, r);
    panel.setAttribute('role', 'tabpanel');
    panels.push(panel);
  });
  list.addEventListener('keydown', (e) => {
    const at = buttons.indexOf(document.activeElement);
    if (at < 0) return;
    const to = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: buttons.length - 1 }[e.key];
    if (to === undefined) return;
    e.preventDefault();
    choose((to + buttons.length) % buttons.length, true);
  });
  list.append(...buttons, nameLabel(r, n.tag));
  box.append(list, ...panels);
  const kept = items.findIndex((t) => t.label === chosenTabs.get(key));
  choose(kept >= 0 ? kept : 0, false);
  return box;
}

export function renderKnown(n, ctx, r) {
  const tag = n.tag;
  if (tag === 'alert' || tag === 'callout' || VARIANTS.includes(tag)) return callout(n, ctx, r);
  if (tag === 'collapsible') return collapsible(n, ctx, r);
  if (tag === 'details') {
    // Raw HTML <details> with its own <summary> stays as written.
    const own = kids(n).some((c) => isElement(c) && c.tag === 'summary');
    return own ? null : collapsible(n, ctx, r);
  }
  if (tag === 'tabs') return tabs(n, ctx, r, false);
  if (tag === 'code-group') return tabs(n, ctx, r, true);
  return null;
}
