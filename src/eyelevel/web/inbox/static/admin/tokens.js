// API tokens for integrations: created with a name, scopes and an optional expiry, the secret
// shown once, revocable.
import { get, post } from "../messenger/api.js";
import { announce, h } from "../messenger/dom.js";
import { t } from "../messenger/i18n.js";
import { del } from "../api.js";
import { messageFor } from "../errors.js";
import { dateTime } from "../format.js";
import { confirmDialog } from "../views/dialog.js";
import { errorLine, field, run, uid } from "../views/form.js";
import { fill } from "../fill.js";

// each scope with what it allows (functions: the language is known only at run time)
const SCOPES = [
  ["conversations:read", () => t("Read conversations, messages, labels and the team")],
  ["conversations:write", () => t("Assign, change status, labels and read markers")],
  ["messages:write", () => t("Send messages and files")],
  ["customers:read", () => t("Read the customer data shared with the company")],
  ["webhooks:manage", () => t("Manage webhooks")],
  ["reports:read", () => t("Read counts and the audit log")],
];

export function tokensPage(root, { store }) {
  const error = errorLine();
  const name = field({
    label: t("Name of the token"),
    maxlength: 100,
    hint: t("What it is for, for example the shop system."),
  });
  const boxes = SCOPES.map(([scope, label]) => {
    const id = uid("scope");
    const box = h("input", { type: "checkbox", id, value: scope });
    const text = h("label", { for: id }, h("code", { text: scope }), ` ${label()}`);
    return { box, node: h("div", { class: "check" }, box, text) };
  });
  const expiry = field({
    label: t("Expires on (optional)"),
    type: "date",
    hint: t("From this day on the token is refused. Empty: it does not expire."),
  });
  const create = h("button", { type: "submit", class: "primary", text: t("Create token") });
  const secret = h("div", { class: "secret-box", role: "region", "aria-label": t("New token") });
  secret.hidden = true;
  const form = h(
    "form",
    { novalidate: true },
    name.node,
    h(
      "fieldset",
      { class: "checks" },
      h("legend", { text: t("What the token may do") }),
      ...boxes.map((b) => b.node),
    ),
    expiry.node,
    h("div", { class: "form-actions" }, create),
  );
  const body = h("tbody");

  function showSecret(created) {
    const value = h("input", {
      type: "text",
      readOnly: true,
      value: created.token,
      class: "token-value",
      id: "new-token-value",
    });
    const copy = h("button", { type: "button", class: "secondary", text: t("Copy") });
    copy.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(created.token);
        copy.textContent = t("Copied");
        announce(t("Copied."));
      } catch {
        value.select();
      }
    });
    fill(
      secret,
      h("p", { class: "secret-title", text: t("Copy the token now: it is shown only once.") }),
      h("label", { for: "new-token-value", text: t("Token {name}", { name: created.name }) }),
      h("div", { class: "inline-form" }, value, copy),
    );
    secret.hidden = false;
    value.focus();
    value.select();
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = name.control.value.trim();
    if (!value) {
      error.show(t("Please enter a name."));
      return;
    }
    const scopes = boxes.filter((b) => b.box.checked).map((b) => b.box.value);
    if (!scopes.length) {
      error.show(t("Choose at least one permission."));
      return;
    }
    // the chosen day's start in the browser's time zone
    const expires_at = expiry.control.value
      ? new Date(`${expiry.control.value}T00:00:00`).toISOString()
      : null;
    run(
      create,
      error,
      async () => {
        const created = await post(`/companies/${store.slug}/tokens`, {
          name: value,
          scopes,
          expires_at,
        });
        name.control.value = "";
        expiry.control.value = "";
        for (const b of boxes) b.box.checked = false;
        showSecret(created);
        await load();
      },
      messageFor,
    );
  });

  async function load() {
    const tokens = await get(`/companies/${store.slug}/tokens`);
    fill(
      body,
      ...(tokens.length
        ? tokens.map((token) => {
            const revoked = Boolean(token.revoked_at);
            const revoke = revoked
              ? h("span", {
                  class: "muted",
                  text: t("Revoked {time}", { time: dateTime(token.revoked_at) }),
                })
              : h("button", {
                  type: "button",
                  class: "danger-link",
                  text: t("Revoke"),
                  "aria-label": t("Revoke the token {name}", { name: token.name }),
                });
            if (!revoked) {
              revoke.addEventListener("click", async () => {
                const sure = await confirmDialog(
                  t("Revoke the token {name}?", { name: token.name }),
                  t("Integrations using it stop working at once."),
                  t("Revoke"),
                  { danger: true },
                );
                if (!sure) return;
                run(
                  revoke,
                  error,
                  async () => {
                    await del(`/companies/${store.slug}/tokens/${token.id}`);
                    announce(t("Token revoked."));
                    await load();
                  },
                  messageFor,
                );
              });
            }
            return h(
              "tr",
              { class: revoked ? "inactive" : "" },
              h("th", { scope: "row", text: token.name }),
              h("td", {}, h("code", { text: `${token.prefix}…` })),
              h("td", {}, ...token.scopes.map((scope) => h("code", { class: "scope", text: scope }))),
              h("td", { text: dateTime(token.created_at) }),
              h("td", { text: token.expires_at ? dateTime(token.expires_at) : t("Never") }),
              h("td", { text: token.last_used_at ? dateTime(token.last_used_at) : t("Never") }),
              h("td", {}, revoke),
            );
          })
        : [h("tr", {}, h("td", { colspan: 7, class: "muted", text: t("No tokens yet.") }))]),
    );
  }

  root.append(
    h("h1", { tabindex: "-1", text: t("API tokens") }),
    h("p", {
      class: "hint",
      text: t(
        "A token lets another system use the REST API for this company, with the permissions you choose. Keep it secret.",
      ),
    }),
    h(
      "section",
      { class: "panel", "aria-labelledby": "new-token" },
      h("h2", { id: "new-token", text: t("New token") }),
      form,
      error.node,
      secret,
    ),
    h(
      "section",
      { class: "panel", "aria-labelledby": "all-tokens" },
      h("h2", { id: "all-tokens", text: t("Tokens") }),
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { class: "table" },
          h("caption", { class: "sr-only", text: t("Tokens") }),
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              h("th", { scope: "col", text: t("Name") }),
              h("th", { scope: "col", text: t("Starts with") }),
              h("th", { scope: "col", text: t("Permissions") }),
              h("th", { scope: "col", text: t("Created") }),
              h("th", { scope: "col", text: t("Expires") }),
              h("th", { scope: "col", text: t("Last used") }),
              h("th", { scope: "col", text: t("Action") }),
            ),
          ),
          body,
        ),
      ),
    ),
  );
  load().catch((failure) => error.show(messageFor(failure)));
}
