// The bar at the top of every view: back, a title that takes focus on arrival, actions.
import { h, icon } from "../dom.js";
import { t } from "../i18n.js";

export function bar({ title, subtitle = null, back = null, actions = [], lead = null }) {
  const heading = h("h1", { tabindex: "-1", class: "bar-title", text: title });
  const sub = h("p", { class: "bar-sub" });
  if (subtitle instanceof Node) sub.append(subtitle);
  else if (subtitle) sub.textContent = subtitle;
  sub.hidden = !subtitle;
  const header = h(
    "header",
    { class: "bar" },
    back
      ? h("a", { class: "icon-btn", href: back, "aria-label": t("Back") }, icon("back"))
      : null,
    lead,
    h("div", { class: "bar-text" }, heading, sub),
    h("div", { class: "bar-actions" }, actions),
  );
  return { header, heading, sub };
}

export function iconLink(href, name, label) {
  return h("a", { class: "icon-btn", href, "aria-label": label, title: label }, icon(name));
}

export function iconButton(name, label, onClick) {
  return h(
    "button",
    { type: "button", class: "icon-btn", "aria-label": label, title: label, on: { click: onClick } },
    icon(name),
  );
}
