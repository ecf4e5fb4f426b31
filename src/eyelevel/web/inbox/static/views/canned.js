// Canned responses: the company's (admins edit them) and my own. In the reply box, "/" at
// the start offers them; the placeholders are filled in when one is inserted.
import { post } from "../messenger/api.js";
import { announce, h } from "../messenger/dom.js";
import { t } from "../messenger/i18n.js";
import { del, patch } from "../api.js";
import { messageFor } from "../errors.js";
import { confirmDialog, modal } from "./dialog.js";
import { errorLine, field, keepFocus, run } from "./form.js";
import { fill } from "../fill.js";

export const PLACEHOLDERS = [
  "{customer.first_name}",
  "{customer.name}",
  "{agent.first_name}",
  "{agent.name}",
  "{company.name}",
];

function editor(store, initial, { submitLabel, onSave }) {
  const shortcut = field({
    label: t("Shortcut"),
    value: initial?.shortcut || "",
    maxlength: 50,
    hint: t("Typed after / in the reply box, e.g. thanks"),
  });
  const body = field({
    label: t("Text"),
    tag: "textarea",
    rows: 5,
    value: initial?.body || "",
    maxlength: 10000,
    hint: t("Placeholders: {list}", { list: PLACEHOLDERS.join(" ") }),
  });
  let scope = null;
  if (store.isAdmin() && !initial) {
    scope = field({
      label: t("Who can use it"),
      tag: "select",
      options: [
        ["company", t("Everyone in the company")],
        ["personal", t("Only me")],
      ],
      value: "company",
    });
  }
  const error = errorLine();
  const save = h("button", { type: "submit", class: "primary", text: submitLabel });
  const form = h(
    "form",
    { class: "stack", novalidate: true },
    shortcut.node,
    body.node,
    scope?.node,
    error.node,
    h("div", { class: "form-actions" }, save),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = {
      shortcut: shortcut.control.value.trim().replace(/^\//, ""),
      body: body.control.value,
    };
    if (!value.shortcut || !value.body.trim()) {
      error.show(t("Please enter a shortcut and a text."));
      return;
    }
    if (!initial) value.personal = scope ? scope.control.value === "personal" : true;
    run(
      save,
      error,
      async () => {
        await onSave(value);
        if (!initial) {
          shortcut.control.value = "";
          body.control.value = "";
        }
      },
      messageFor,
    );
  });
  return form;
}

export function cannedPage(root, { store }) {
  const list = h("div", { class: "canned-list" });
  const listError = errorLine();

  function item(canned) {
    const editable = canned.personal || store.isAdmin();
    const edit = h("button", {
      type: "button",
      class: "secondary small",
      text: t("Edit"),
      "aria-label": t("Edit /{name}", { name: canned.shortcut }),
      "data-key": `edit-${canned.id}`,
    });
    const remove = h("button", {
      type: "button",
      class: "danger-link",
      text: t("Delete"),
      "aria-label": t("Delete /{name}", { name: canned.shortcut }),
    });
    edit.addEventListener("click", () =>
      modal(t("Edit /{name}", { name: canned.shortcut }), (finish) =>
        editor(store, canned, {
          submitLabel: t("Save"),
          onSave: async (value) => {
            await patch(`/companies/${store.slug}/canned-responses/${canned.id}`, value);
            await store.loadCanned();
            announce(t("Saved."));
            finish(true);
          },
        }),
      ),
    );
    remove.addEventListener("click", async () => {
      const sure = await confirmDialog(
        t("Delete /{name}?", { name: canned.shortcut }),
        canned.body.slice(0, 200),
        t("Delete"),
        { danger: true },
      );
      if (!sure) return;
      run(
        remove,
        listError,
        async () => {
          await del(`/companies/${store.slug}/canned-responses/${canned.id}`);
          await store.loadCanned();
          announce(t("Deleted."));
        },
        messageFor,
      );
    });
    return h(
      "article",
      { class: "canned-item" },
      h(
        "div",
        { class: "canned-head" },
        h("h3", {}, h("code", { text: `/${canned.shortcut}` })),
        h("span", { class: "tag", text: canned.personal ? t("Only me") : t("Company-wide") }),
        editable ? h("span", { class: "canned-actions" }, edit, remove) : null,
      ),
      h("p", { class: "canned-body", text: canned.body }),
    );
  }

  function draw() {
    keepFocus(list, () =>
      fill(
        list,
        ...(store.canned.length
          ? store.canned.map(item)
          : [h("p", { class: "muted", text: t("No canned responses yet.") })]),
      ),
    );
  }

  root.append(
    h("h1", { tabindex: "-1", text: t("Canned responses") }),
    h("p", { class: "hint", text: t("Type / at the start of the reply box to insert one.") }),
    h(
      "section",
      { class: "panel", "aria-labelledby": "canned-new" },
      h("h2", { id: "canned-new", text: t("New canned response") }),
      editor(store, null, {
        submitLabel: t("Create"),
        onSave: async (value) => {
          await post(`/companies/${store.slug}/canned-responses`, value);
          await store.loadCanned();
          announce(t("Saved."));
        },
      }),
    ),
    h(
      "section",
      { class: "panel", "aria-labelledby": "canned-all" },
      h("h2", { id: "canned-all", text: t("All canned responses") }),
      listError.node,
      list,
    ),
  );
  draw();
  const off = store.on("canned", draw);
  store.loadCanned().catch(() => {});
  return off;
}
