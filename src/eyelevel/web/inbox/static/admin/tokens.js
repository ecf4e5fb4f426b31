// API tokens for integrations: created with a name, the secret shown once, revocable.
import { get, post } from "../messenger/api.js";
import { announce, h } from "../messenger/dom.js";
import { t } from "../messenger/i18n.js";
import { del } from "../api.js";
import { messageFor } from "../errors.js";
import { dateTime } from "../format.js";
import { confirmDialog } from "../views/dialog.js";
import { errorLine, field, run } from "../views/form.js";
import { fill } from "../fill.js";

export function tokensPage(root, { store }) {
  const error = errorLine();
  const name = field({
    label: t("Name of the token"),
    maxlength: 100,
    hint: t("What it is for, for example the shop system."),
  });
  const create = h("button", { type: "submit", class: "primary", text: t("Create token") });
  const secret = h("div", { class: "secret-box", role: "region", "aria-label": t("New token") });
  secret.hidden = true;
  const form = h("form", { class: "inline-form", novalidate: true }, name.node, create);
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
    run(
      create,
      error,
      async () => {
        const created = await post(`/companies/${store.slug}/tokens`, { name: value });
        name.control.value = "";
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
              h("td", { text: dateTime(token.created_at) }),
              h("td", { text: token.last_used_at ? dateTime(token.last_used_at) : t("Never") }),
              h("td", {}, revoke),
            );
          })
        : [h("tr", {}, h("td", { colspan: 5, class: "muted", text: t("No tokens yet.") }))]),
    );
  }

  root.append(
    h("h1", { tabindex: "-1", text: t("API tokens") }),
    h("p", {
      class: "hint",
      text: t(
        "A token lets another system use the REST API with admin rights for this company. Keep it secret.",
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
              h("th", { scope: "col", text: t("Created") }),
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
