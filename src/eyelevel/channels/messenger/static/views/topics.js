// Before the first message: what the conversation is about, from the company's own list of
// topics (docs/routing.md). Required only when the company says so; otherwise "Something else"
// starts without one.
import { h } from "../dom.js";
import { t } from "../i18n.js";

let counter = 0;

export function topicChooser({ items, required }) {
  counter += 1;
  const name = `topic-${counter}`;
  const legendId = `${name}-legend`;
  const error = h("p", { class: "topic-error", role: "alert" });
  error.hidden = true;
  const options = [
    ...items.map((topic) => [String(topic.id), topic.name]),
    ...(required ? [] : [["", t("Something else")]]),
  ].map(([value, text]) => {
    const input = h("input", { type: "radio", name, value, class: "topic-radio" });
    input.addEventListener("change", () => {
      error.hidden = true;
      node.classList.remove("invalid");
    });
    return { input, node: h("label", { class: "topic-option" }, input, h("span", { text })) };
  });
  const node = h(
    "fieldset",
    { class: "topic-choice", "aria-describedby": `${name}-error` },
    h(
      "legend",
      { id: legendId },
      t("What is it about?"),
      " ",
      h("span", { class: "topic-need", text: required ? t("(required)") : t("(optional)") }),
    ),
    h("div", { class: "topic-options" }, options.map((o) => o.node)),
    error,
  );
  error.id = `${name}-error`;
  return {
    node,
    // the chosen topic's id; null for none
    value() {
      const chosen = options.find((o) => o.input.checked);
      return chosen && chosen.input.value ? Number(chosen.input.value) : null;
    },
    chosen() {
      return options.some((o) => o.input.checked);
    },
    showError(text) {
      error.textContent = text;
      error.hidden = !text;
      node.classList.toggle("invalid", Boolean(text));
      if (text) options[0]?.input.focus();
    },
  };
}
