// The audit log: every admin change, newest first, paged backwards.
import { get } from "../messenger/api.js";
import { h } from "../messenger/dom.js";
import { t } from "../messenger/i18n.js";
import { messageFor } from "../errors.js";
import { dateTime } from "../format.js";
import { errorLine } from "../views/form.js";

const PAGE = 50;

// "agent:12" → the colleague's name, "team:3" → the team's, anything else as written
function who(store, value) {
  if (value === null || value === undefined) return "";
  const text = String(value);
  const [kind, raw] = text.split(":");
  const id = Number(raw);
  if (kind === "agent" && store.agent(id)) return store.agent(id).name;
  if (kind === "team" && store.team(id)) return t("Team {name}", { name: store.team(id).name });
  if (kind === "label" && store.label(id)) return t("Label {name}", { name: store.label(id).name });
  if (kind === "operator") return t("Operator (command line)");
  return text;
}

const ACTIONS = {
  "agent.deactivated": () => t("Agent deactivated"),
  "agent.reactivated": () => t("Agent reactivated"),
  "agent.role_changed": () => t("Role changed"),
  "agent.second_factor_enabled": () => t("Two-factor authentication turned on"),
  "agent.second_factor_disabled": () => t("Two-factor authentication turned off"),
  "canned_response.created": () => t("Canned response created"),
  "canned_response.updated": () => t("Canned response changed"),
  "canned_response.deleted": () => t("Canned response deleted"),
  "company.updated": () => t("Company profile changed"),
  "label.created": () => t("Label created"),
  "label.updated": () => t("Label changed"),
  "label.deleted": () => t("Label deleted"),
  "team.created": () => t("Team created"),
  "team.updated": () => t("Team renamed"),
  "team.deleted": () => t("Team deleted"),
  "team.members_changed": () => t("Team members changed"),
};

function details(data) {
  if (data === null || data === undefined) return "";
  if (typeof data !== "object") return String(data);
  return Object.entries(data)
    .map(([key, value]) => `${key}: ${typeof value === "object" ? JSON.stringify(value) : value}`)
    .join(", ")
    .slice(0, 300);
}

export function auditPage(root, { store }) {
  const error = errorLine();
  const body = h("tbody");
  const more = h("button", { type: "button", class: "secondary", text: t("Show older entries") });
  more.hidden = true;
  let before = null;

  async function load() {
    const params = new URLSearchParams({ limit: String(PAGE) });
    if (before !== null) params.set("before_id", String(before));
    const page = await get(`/companies/${store.slug}/audit?${params}`);
    const items = page.items || [];
    body.append(
      ...items.map((entry) =>
        h(
          "tr",
          {},
          h("td", {}, h("time", { datetime: entry.created_at, text: dateTime(entry.created_at) })),
          h("td", { text: who(store, entry.actor) }),
          h(
            "td",
            { title: entry.action },
            ACTIONS[entry.action] ? ACTIONS[entry.action]() : h("code", { text: entry.action }),
          ),
          h("td", { text: who(store, entry.target) }),
          h("td", { class: "details", text: details(entry.data) }),
        ),
      ),
    );
    if (!body.children.length) {
      body.append(h("tr", {}, h("td", { colspan: 5, class: "muted", text: t("No entries yet.") })));
    }
    before = items.length ? items[items.length - 1].id : before;
    more.hidden = items.length < PAGE;
  }

  more.addEventListener("click", async () => {
    more.disabled = true;
    try {
      await load();
    } catch (failure) {
      error.show(messageFor(failure));
    } finally {
      more.disabled = false;
    }
  });

  root.append(
    h("h1", { tabindex: "-1", text: t("Audit log") }),
    h("p", { class: "hint", text: t("Every change an admin makes, newest first.") }),
    error.node,
    h(
      "div",
      { class: "table-wrap panel" },
      h(
        "table",
        { class: "table" },
        h("caption", { class: "sr-only", text: t("Audit log") }),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            h("th", { scope: "col", text: t("Time") }),
            h("th", { scope: "col", text: t("Who") }),
            h("th", { scope: "col", text: t("Action") }),
            h("th", { scope: "col", text: t("Object") }),
            h("th", { scope: "col", text: t("Details") }),
          ),
        ),
        body,
      ),
    ),
    more,
  );
  load().catch((failure) => error.show(messageFor(failure)));
}
