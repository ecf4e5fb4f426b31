// Labelled form fields and a form-level error that screen readers hear.
import { h } from "../dom.js";

let counter = 0;

export function field({ label, hint = null, ...input }) {
  counter += 1;
  const id = `f${counter}`;
  const hintId = hint ? `${id}-hint` : null;
  const control = h("input", { id, "aria-describedby": hintId, ...input });
  return {
    control,
    node: h(
      "div",
      { class: "field" },
      h("label", { for: id, text: label }),
      control,
      hint ? h("p", { class: "hint", id: hintId, text: hint }) : null,
    ),
  };
}

export function errorLine() {
  const node = h("p", { class: "form-error", role: "alert" });
  node.hidden = true;
  return {
    node,
    show(text) {
      node.textContent = text;
      node.hidden = !text;
    },
  };
}

// Disables the submit button while the form's promise runs.
export function busy(button, running) {
  button.disabled = running;
  button.setAttribute("aria-busy", running ? "true" : "false");
}
