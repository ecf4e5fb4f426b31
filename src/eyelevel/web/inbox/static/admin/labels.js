// Labels: the company's way of sorting conversations, each with a name and a colour.
import { post } from "../messenger/api.js";
import { announce, h } from "../messenger/dom.js";
import { t } from "../messenger/i18n.js";
import { del, patch } from "../api.js";
import { messageFor } from "../errors.js";
import { confirmDialog } from "../views/dialog.js";
import { errorLine, field, keepFocus, run, uid } from "../views/form.js";
import { fill } from "../fill.js";

const COLOURS = [
  "#1f5fd6",
  "#0f7a6c",
  "#b24a12",
  "#a3245a",
  "#7a3fb8",
  "#5b6472",
  "#b8860b",
  "#2e7d32",
];

export function labelsPage(root, { store }) {
  const error = errorLine();
  const name = field({ label: t("Name"), maxlength: 50 });
  const colour = field({
    label: t("Colour"),
    type: "color",
    value: COLOURS[store.labels.length % COLOURS.length],
  });
  colour.node.classList.add("narrow");
  const create = h("button", { type: "submit", class: "primary", text: t("Create label") });
  const form = h(
    "form",
    { class: "inline-form", novalidate: true },
    name.node,
    colour.node,
    create,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = name.control.value.trim();
    if (!value) {
      error.show(t("Please enter a name."));
      name.control.focus();
      return;
    }
    run(
      create,
      error,
      async () => {
        await post(`/companies/${store.slug}/labels`, { name: value, color: colour.control.value });
        name.control.value = "";
        colour.control.value = COLOURS[(store.labels.length + 1) % COLOURS.length];
        await store.loadLabels();
        announce(t("Label {name} created.", { name: value }));
      },
      messageFor,
    );
  });

  const body = h("tbody");
  const listError = errorLine();
  function row(label) {
    const nameId = uid("ln");
    const colourId = uid("lc");
    const nameInput = h("input", {
      id: nameId,
      value: label.name,
      maxlength: 50,
      "data-key": `name-${label.id}`,
    });
    const colourInput = h("input", {
      id: colourId,
      type: "color",
      value: label.color,
      "data-key": `colour-${label.id}`,
    });
    const save = h("button", {
      type: "button",
      class: "secondary small",
      text: t("Save"),
      "aria-label": t("Save the label {name}", { name: label.name }),
      "data-key": `save-${label.id}`,
    });
    const remove = h("button", {
      type: "button",
      class: "danger-link",
      text: t("Delete"),
      "aria-label": t("Delete the label {name}", { name: label.name }),
    });
    save.addEventListener("click", () =>
      run(
        save,
        listError,
        async () => {
          await patch(`/companies/${store.slug}/labels/${label.id}`, {
            name: nameInput.value.trim(),
            color: colourInput.value,
          });
          await store.loadLabels();
          announce(t("Saved."));
        },
        messageFor,
      ),
    );
    remove.addEventListener("click", async () => {
      const sure = await confirmDialog(
        t("Delete the label {name}?", { name: label.name }),
        t("It is removed from every conversation that has it."),
        t("Delete"),
        { danger: true },
      );
      if (!sure) return;
      run(
        remove,
        listError,
        async () => {
          await del(`/companies/${store.slug}/labels/${label.id}`);
          await store.loadLabels();
          announce(t("Label deleted."));
        },
        messageFor,
      );
    });
    const swatch = h("span", { class: "swatch big", "aria-hidden": "true" });
    swatch.style.backgroundColor = label.color;
    return h(
      "tr",
      {},
      h("td", {}, swatch),
      h("td", {}, h("label", { for: nameId, class: "sr-only", text: t("Name") }), nameInput),
      h("td", {}, h("label", { for: colourId, class: "sr-only", text: t("Colour") }), colourInput),
      h("td", { class: "actions" }, save, remove),
    );
  }
  function draw() {
    keepFocus(body, () =>
      fill(
        body,
        ...(store.labels.length
          ? store.labels.map(row)
          : [h("tr", {}, h("td", { colspan: 4, class: "muted", text: t("No labels yet.") }))]),
      ),
    );
  }
  root.append(
    h("h1", { tabindex: "-1", text: t("Labels") }),
    h(
      "section",
      { class: "panel", "aria-labelledby": "new-label" },
      h("h2", { id: "new-label", text: t("New label") }),
      form,
      error.node,
    ),
    h(
      "section",
      { class: "panel", "aria-labelledby": "all-labels" },
      h("h2", { id: "all-labels", text: t("All labels") }),
      listError.node,
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { class: "table" },
          h("caption", { class: "sr-only", text: t("Labels") }),
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              h("th", { scope: "col", text: t("Colour") }),
              h("th", { scope: "col", text: t("Name") }),
              h("th", { scope: "col", text: t("Change colour") }),
              h("th", { scope: "col", text: t("Action") }),
            ),
          ),
          body,
        ),
      ),
    ),
  );
  draw();
  const off = store.on("labels", draw);
  store.loadLabels().catch(() => {});
  return off;
}
