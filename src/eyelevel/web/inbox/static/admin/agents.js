// Agents: invite by email with a role, change roles, deactivate and reactivate. A
// deactivated agent's sessions, tokens and open sockets end at once.
import { post } from "../messenger/api.js";
import { announce, h } from "../messenger/dom.js";
import { t } from "../messenger/i18n.js";
import { patch } from "../api.js";
import { messageFor } from "../errors.js";
import { presenceName, roleName } from "../format.js";
import { confirmDialog } from "../views/dialog.js";
import { errorLine, field, keepFocus, okLine, run, uid } from "../views/form.js";
import { fill } from "../fill.js";

const ROLES = ["agent", "lead", "admin"];

export function agentsPage(root, { store }) {
  const email = field({
    label: t("Email address"),
    type: "email",
    autocomplete: "off",
    maxlength: 254,
  });
  const role = field({
    label: t("Role"),
    tag: "select",
    options: ROLES.map((r) => [r, roleName(r)]),
    value: "agent",
  });
  role.node.classList.add("narrow");
  const invite = h("button", { type: "submit", class: "primary", text: t("Send invitation") });
  const inviteError = errorLine();
  const invited = okLine();
  const form = h("form", { class: "inline-form", novalidate: true }, email.node, role.node, invite);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const address = email.control.value.trim();
    invited.show("");
    if (!address.includes("@")) {
      inviteError.show(t("Please enter a valid email address."));
      email.control.focus();
      return;
    }
    run(
      invite,
      inviteError,
      async () => {
        await post(`/companies/${store.slug}/invitations`, {
          email: address,
          role: role.control.value,
        });
        email.control.value = "";
        invited.show(t("Invitation sent to {email}.", { email: address }));
      },
      messageFor,
    );
  });

  const error = errorLine();
  const body = h("tbody");
  const table = h(
    "table",
    { class: "table" },
    h("caption", { class: "sr-only", text: t("Agents") }),
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        h("th", { scope: "col", text: t("Name") }),
        h("th", { scope: "col", text: t("Role") }),
        h("th", { scope: "col", text: t("Status") }),
        h("th", { scope: "col", text: t("Presence") }),
        h("th", { scope: "col", text: t("Action") }),
      ),
    ),
    body,
  );

  async function change(agent, changes, button) {
    await run(
      button,
      error,
      async () => {
        await patch(`/companies/${store.slug}/agents/${agent.id}`, changes);
        await store.loadStaff();
        announce(t("Saved."));
      },
      messageFor,
    );
  }

  function row(agent) {
    const selectId = uid("r");
    const select = h(
      "select",
      { id: selectId, "data-key": `role-${agent.id}` },
      ROLES.map((r) => h("option", { value: r, text: roleName(r) })),
    );
    select.value = agent.role;
    select.addEventListener("change", () => change(agent, { role: select.value }, select));
    const active = agent.active !== false;
    const toggle = h("button", {
      type: "button",
      class: active ? "danger-link" : "secondary small",
      "data-key": `active-${agent.id}`,
      text: active ? t("Deactivate") : t("Reactivate"),
      "aria-label": active
        ? t("Deactivate {name}", { name: agent.name })
        : t("Reactivate {name}", { name: agent.name }),
    });
    toggle.addEventListener("click", async () => {
      if (active) {
        const sure = await confirmDialog(
          t("Deactivate {name}?", { name: agent.name }),
          t(
            "{name} is signed out everywhere at once and can no longer sign in. Conversations stay as they are.",
            { name: agent.name },
          ),
          t("Deactivate"),
          { danger: true },
        );
        if (!sure) return;
      }
      change(agent, { active: !active }, toggle);
    });
    const presence = agent.presence || "offline";
    return h(
      "tr",
      { class: active ? "" : "inactive" },
      h(
        "th",
        { scope: "row" },
        agent.name,
        agent.id === store.me.id ? h("span", { class: "tag", text: t("You") }) : null,
      ),
      h(
        "td",
        {},
        h("label", {
          for: selectId,
          class: "sr-only",
          text: t("Role of {name}", { name: agent.name }),
        }),
        select,
      ),
      h("td", { text: active ? t("Active") : t("Deactivated") }),
      h(
        "td",
        {},
        h("span", { class: `dot dot-${presence}`, "aria-hidden": "true" }),
        " ",
        presenceName(presence),
      ),
      h("td", {}, toggle),
    );
  }

  function draw() {
    keepFocus(body, () => fill(body, ...store.agents.map(row)));
  }

  root.append(
    h("h1", { tabindex: "-1", text: t("Agents") }),
    h(
      "section",
      { class: "panel", "aria-labelledby": "invite-title" },
      h("h2", { id: "invite-title", text: t("Invite an agent") }),
      h("p", {
        class: "hint",
        text: t(
          "The invitation is sent by email; the link lets them choose a name and a password.",
        ),
      }),
      form,
      inviteError.node,
      invited.node,
    ),
    h(
      "section",
      { class: "panel", "aria-labelledby": "agents-title" },
      h("h2", { id: "agents-title", text: t("Team members") }),
      error.node,
      h("div", { class: "table-wrap" }, table),
    ),
  );
  draw();
  const off = store.on("staff", draw);
  store.loadStaff().catch(() => {});
  return off;
}
