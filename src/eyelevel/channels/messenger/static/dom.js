// Building DOM nodes. User text only ever becomes text nodes (never innerHTML).

export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else if (key === "on") {
      for (const [event, handler] of Object.entries(value)) el.addEventListener(event, handler);
    } else if (key in el && !key.startsWith("aria") && !key.startsWith("data")) el[key] = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

// Make ``parent``'s children exactly ``wanted``, in order, moving only the nodes that are out
// of place, so scroll position and focus inside unchanged nodes survive a live update.
export function placeChildren(parent, wanted) {
  let cursor = parent.firstChild;
  for (const node of wanted) {
    if (node === cursor) {
      cursor = cursor.nextSibling;
      continue;
    }
    parent.insertBefore(node, cursor);
  }
  while (cursor) {
    const next = cursor.nextSibling;
    cursor.remove();
    cursor = next;
  }
}

export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

const URLISH = /\bhttps?:\/\/[^\s<>"]+/gi;
const TRAILING = /[.,;:!?)\]}'"»«]+$/;

// Text with its http(s) links as anchors; anything else stays text.
export function linkify(text) {
  const fragment = document.createDocumentFragment();
  let last = 0;
  for (const match of text.matchAll(URLISH)) {
    let raw = match[0];
    const trail = raw.match(TRAILING);
    if (trail) raw = raw.slice(0, -trail[0].length);
    let url = null;
    try {
      url = new URL(raw);
    } catch {
      url = null;
    }
    if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) continue;
    fragment.append(text.slice(last, match.index));
    fragment.append(
      h("a", { href: url.href, target: "_blank", rel: "noopener noreferrer nofollow", text: raw }),
    );
    last = match.index + raw.length;
  }
  fragment.append(text.slice(last));
  return fragment;
}

// A small inline icon from the fixed set below (paths drawn for this app).
const ICONS = {
  back: "M15 5l-7 7 7 7",
  send: "M4 12l16-8-6 16-3-7-7-1z",
  clip: "M16 7l-7.5 7.5a2.5 2.5 0 003.5 3.5L19.5 10a4.5 4.5 0 00-6.4-6.4L5.6 11.1a6.5 6.5 0 009.2 9.2L20 15",
  camera: "M4 8h3l2-3h6l2 3h3v11H4zM12 17a3.5 3.5 0 100-7 3.5 3.5 0 000 7z",
  phone:
    "M6.5 3h3l1.5 4.5-2 1.5a11 11 0 005.5 5.5l1.5-2 4.5 1.5v3a2 2 0 01-2 2A16 16 0 014.5 5a2 2 0 012-2z",
  search: "M10.5 17a6.5 6.5 0 100-13 6.5 6.5 0 000 13zM15.5 15.5L20 20",
  plus: "M12 5v14M5 12h14",
  close: "M6 6l12 12M18 6L6 18",
  menu: "M4 7h16M4 12h16M4 17h16",
  file: "M7 3h7l5 5v13H7zM14 3v5h5",
  down: "M6 9l6 6 6-6",
};

export function icon(name) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  svg.setAttribute("class", "icon");
  const path = document.createElementNS(ns, "path");
  path.setAttribute("d", ICONS[name]);
  svg.append(path);
  return svg;
}

// Say something to screen readers without moving focus.
export function announce(text) {
  const region = document.getElementById("announcer");
  if (!region) return;
  region.textContent = "";
  setTimeout(() => {
    region.textContent = text;
  }, 50);
}

export function reducedMotion() {
  return window.matchMedia("(prefers-reduced-motion: reduce)").matches;
}

const PALETTE = ["#1f5fd6", "#7a3fb8", "#0f7a6c", "#b24a12", "#a3245a", "#3d5a80"];

// A stable avatar colour per name (each has at least 4.5:1 contrast against white text).
export function avatar(name, size = "") {
  let hash = 0;
  for (const ch of name || "?") hash = (hash * 31 + ch.codePointAt(0)) >>> 0;
  const el = h("span", { class: `avatar ${size}`, "aria-hidden": "true" });
  el.textContent = (name || "?").trim().charAt(0).toUpperCase() || "?";
  el.style.backgroundColor = PALETTE[hash % PALETTE.length];
  return el;
}
