// Labelled form controls, a form-level error that screen readers hear, busy buttons.
import { h } from "../messenger/dom.js";

let counter = 0;

export function uid(prefix = "i") {
  counter += 1;
  return `${prefix}${counter}`;
}

// A labelled control: input (default), select (options: [[value, text]]) or textarea.
export function field({ label, hint = null, tag = "input", options = null, value, ...props }) {
  const id = uid("f");
  const hintId = hint ? `${id}-hint` : null;
  let control;
  if (tag === "select") {
    control = h(
      "select",
      { id, "aria-describedby": hintId, ...props },
      (options || []).map(([v, text]) => h("option", { value: v, text })),
    );
  } else {
    control = h(tag, { id, "aria-describedby": hintId, ...props });
  }
  if (value !== undefined && value !== null) control.value = value;
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
      node.textContent = text || "";
      node.hidden = !text;
    },
  };
}

export function okLine() {
  const node = h("p", { class: "form-ok", role: "status" });
  return {
    node,
    show(text) {
      node.textContent = text || "";
    },
  };
}

export function busy(button, running) {
  button.disabled = running;
  button.setAttribute("aria-busy", running ? "true" : "false");
}

// Runs an async action behind a button; the error line says what went wrong.
export async function run(button, error, action, describe) {
  busy(button, true);
  if (error) error.show("");
  try {
    return await action();
  } catch (failure) {
    if (error) error.show(describe(failure));
    return undefined;
  } finally {
    busy(button, false);
  }
}

// Redraws ``container`` with ``draw`` and puts the focus back on the control with the same
// ``data-key`` (a list redrawn after a save or a live event keeps the keyboard's place).
export function keepFocus(container, draw) {
  const active = document.activeElement;
  const key = active && container.contains(active) ? active.dataset.key : null;
  draw();
  if (key) container.querySelector(`[data-key="${CSS.escape(key)}"]`)?.focus();
}
