// A button that opens a small panel below it (a disclosure): Esc or a click outside closes it
// and gives the focus back to the button. Arrow keys move between the panel's buttons.
import { h } from "../messenger/dom.js";
import { uid } from "./form.js";
import { fill } from "../fill.js";

const open = new Set();

document.addEventListener("pointerdown", (event) => {
  for (const pop of [...open]) {
    if (!pop.root.contains(event.target)) pop.close(false);
  }
});

export function popover({
  label,
  content,
  className = "",
  buttonClass = "tool",
  title = null,
  align = "left",
}) {
  const id = uid("pop");
  const button = h(
    "button",
    {
      type: "button",
      class: buttonClass,
      "aria-expanded": "false",
      "aria-controls": id,
      title,
    },
    label,
  );
  const panel = h("div", { id, class: `popover popover-${align} ${className}`.trim() });
  panel.hidden = true;
  const root = h("div", { class: "pop-root" }, button, panel);
  const pop = {
    root,
    button,
    panel,
    isOpen: () => !panel.hidden,
    open() {
      if (!panel.hidden) return;
      for (const other of [...open]) other.close(false);
      fill(panel, ...[content(pop)].flat());
      panel.hidden = false;
      button.setAttribute("aria-expanded", "true");
      open.add(pop);
      const first = panel.querySelector("input, button, select, textarea, a[href]");
      if (first) first.focus();
    },
    close(refocus = true) {
      if (panel.hidden) return;
      panel.hidden = true;
      button.setAttribute("aria-expanded", "false");
      open.delete(pop);
      if (refocus) button.focus();
    },
  };
  button.addEventListener("click", () => (pop.isOpen() ? pop.close() : pop.open()));
  panel.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      pop.close();
      return;
    }
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
    const items = [...panel.querySelectorAll("button:not([disabled]), input[type=checkbox]")];
    if (!items.length) return;
    event.preventDefault();
    const at = items.indexOf(document.activeElement);
    const next = event.key === "ArrowDown" ? at + 1 : at - 1;
    items[(next + items.length) % items.length].focus();
  });
  return pop;
}

export function closeAllPopovers() {
  const any = open.size > 0;
  for (const pop of [...open]) pop.close(false);
  return any;
}
