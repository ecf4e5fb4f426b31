// The sidebar: the views with live counts (Mine, Unassigned, my teams, All, Mentions), the
// status and label filters, and the other pages (canned responses, administration).
import { h } from "../messenger/dom.js";
import { t } from "../messenger/i18n.js";
import { icon } from "../icons.js";
import { count, STATUSES, statusName } from "../format.js";
import { fill } from "../fill.js";

export const ADMIN_PAGES = [
  ["profile", () => t("Company profile")],
  ["teams", () => t("Teams")],
  ["agents", () => t("Agents")],
  ["topics", () => t("Conversation topics")],
  ["routing", () => t("Routing")],
  ["labels", () => t("Labels")],
  ["tokens", () => t("API tokens")],
  ["webhooks", () => t("Webhooks")],
  ["goodwill", () => t("Goodwill policy")],
  ["audit", () => t("Audit log")],
];

function link(href, iconName, label, badge, current, extra = null) {
  const node = h(
    "a",
    { href, class: `side-link${current ? " current" : ""}` },
    iconName ? icon(iconName) : null,
    extra,
    h("span", { class: "side-text", text: label }),
    badge !== null && badge !== undefined && badge !== ""
      ? h("span", { class: "side-count", text: badge })
      : null,
  );
  if (current) node.setAttribute("aria-current", "page");
  return node;
}

export function sidebar(store) {
  const node = h("nav", { class: "sidebar", "aria-label": t("Inbox navigation") });
  let route = null;

  function params(changes) {
    const p = new URLSearchParams(route?.section === "inbox" ? route.params : "");
    for (const [k, v] of Object.entries(changes)) {
      if (v === null) p.delete(k);
      else p.set(k, v);
    }
    const q = p.toString();
    return q ? `?${q}` : "";
  }

  function draw() {
    if (!route) return;
    const counts = store.counts || {};
    const inInbox = route.section === "inbox";
    const view = inInbox ? route.view : null;
    const status = route.params.get("status") || "open";
    const label = route.params.get("label");
    const views = [
      ["mine", "me", t("Mine"), counts.mine],
      ["unassigned", "queue", t("Unassigned"), counts.unassigned],
      ...store
        .myTeams()
        .map((team) => [
          `team-${team.id}`,
          "team",
          team.name,
          counts.teams ? counts.teams[String(team.id)] : null,
        ]),
      ...(store.isLead() ? [["all", "all", t("All"), counts.all]] : []),
      ["mentions", "at", t("Mentions"), counts.mentions],
    ];
    const viewLinks = views.map(([key, iconName, text, n]) =>
      h("li", {}, link(`#/inbox/${key}${params({})}`, iconName, text, count(n), view === key)),
    );
    const statusLinks = STATUSES.map((s) =>
      h(
        "li",
        {},
        link(
          `#/inbox/${view || "mine"}${params({ status: s === "open" ? null : s })}`,
          null,
          statusName(s),
          count(counts.status?.[s]),
          inInbox && status === s,
          h("span", { class: `status-dot status-${s}`, "aria-hidden": "true" }),
        ),
      ),
    );
    const labelLinks = store.labels.map((l) => {
      const current = inInbox && label === String(l.id);
      const swatch = h("span", { class: "swatch", "aria-hidden": "true" });
      swatch.style.backgroundColor = l.color;
      return h(
        "li",
        {},
        link(
          `#/inbox/${view || "mine"}${params({ label: current ? null : String(l.id) })}`,
          null,
          l.name,
          null,
          current,
          swatch,
        ),
      );
    });
    const pages = [
      h(
        "li",
        {},
        link("#/canned", "canned", t("Canned responses"), null, route.section === "canned"),
      ),
      h(
        "li",
        {},
        link("#/callbacks", "phone", t("Callbacks"), null, route.section === "callbacks"),
      ),
    ];
    if (store.isLead()) {
      pages.push(
        h("li", {}, link("#/reports", "chart", t("Reports"), null, route.section === "reports")),
      );
    }
    const admin = store.isAdmin()
      ? ADMIN_PAGES.map(([key, text]) =>
          h(
            "li",
            {},
            link(
              `#/admin/${key}`,
              null,
              text(),
              null,
              route.section === "admin" && (route.page || "profile") === key,
            ),
          ),
        )
      : [];
    const focused = node.contains(document.activeElement)
      ? document.activeElement.getAttribute("href")
      : null;
    fill(
      node,
      h("h2", { class: "side-heading", id: "side-views", text: t("Views") }),
      h("ul", { class: "side-list", "aria-labelledby": "side-views" }, viewLinks),
      h("h2", { class: "side-heading", id: "side-status", text: t("Status") }),
      h("ul", { class: "side-list", "aria-labelledby": "side-status" }, statusLinks),
      store.labels.length
        ? [
            h("h2", { class: "side-heading", id: "side-labels", text: t("Labels") }),
            h("ul", { class: "side-list", "aria-labelledby": "side-labels" }, labelLinks),
          ]
        : null,
      h("h2", { class: "side-heading", id: "side-tools", text: t("Tools") }),
      h("ul", { class: "side-list", "aria-labelledby": "side-tools" }, pages),
      admin.length
        ? [
            h("h2", { class: "side-heading", id: "side-admin", text: t("Administration") }),
            h("ul", { class: "side-list", "aria-labelledby": "side-admin" }, admin),
          ]
        : null,
    );
    if (focused) node.querySelector(`a[href="${CSS.escape(focused)}"]`)?.focus();
  }

  store.on("counts", draw);
  store.on("staff", draw);
  store.on("labels", draw);

  return {
    node,
    update(next) {
      const status = next.params.get("status") || "open";
      if (next.section === "inbox" && status !== store.countsStatus) {
        store.loadCounts(status).catch(() => {});
      }
      route = next;
      draw();
    },
  };
}
