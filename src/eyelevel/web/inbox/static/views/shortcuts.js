// Keyboard shortcuts for the daily path. They act only when no text field has the focus
// (Esc leaves a field, closes a menu or dialog); ? lists them in a dialog.
import { h } from "../messenger/dom.js";
import { t } from "../messenger/i18n.js";
import { modal } from "./dialog.js";
import { closeAllPopovers } from "./popover.js";

export const SHORTCUTS = [
  ["j", () => t("Next conversation")],
  ["k", () => t("Previous conversation")],
  ["r", () => t("Reply")],
  ["n", () => t("Write a private note")],
  ["a", () => t("Assign to me")],
  ["e", () => t("Resolve")],
  ["/", () => t("Search")],
  ["?", () => t("Show the keyboard shortcuts")],
  ["Esc", () => t("Leave the text field, close a menu or dialog")],
];

let dialogOpen = false;

export function openShortcuts() {
  if (dialogOpen) return;
  dialogOpen = true;
  modal(
    t("Keyboard shortcuts"),
    (finish) => [
      h(
        "dl",
        { class: "shortcut-list" },
        SHORTCUTS.map(([key, what]) => [
          h("dt", {}, h("kbd", { text: key })),
          h("dd", { text: what() }),
        ]),
      ),
      h("p", { class: "hint", text: t("Shortcuts work when no text field has the focus.") }),
      h(
        "div",
        { class: "dialog-actions" },
        h("button", {
          type: "button",
          class: "primary",
          text: t("Close"),
          on: { click: () => finish(null) },
        }),
      ),
    ],
    { className: "shortcuts" },
  ).then(() => {
    dialogOpen = false;
  });
}

function typing(target) {
  if (!target || !(target instanceof Element)) return false;
  if (target.isContentEditable) return true;
  const tag = target.tagName;
  if (tag === "TEXTAREA" || tag === "SELECT") return true;
  if (tag !== "INPUT") return false;
  return !["checkbox", "radio", "button", "submit", "reset", "range", "color"].includes(
    target.type,
  );
}

export function installShortcuts(store, screen) {
  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "Escape") {
      if (closeAllPopovers()) event.preventDefault();
      return;
    }
    if (typing(event.target) || document.querySelector("dialog[open]")) return;
    if (!store.me) return;
    const current = screen();
    const inbox = current && typeof current.move === "function" ? current : null;
    const actions = {
      "?": () => openShortcuts(),
      "/": () => document.querySelector(".search-input")?.focus(),
      j: () => inbox?.move(1),
      k: () => inbox?.move(-1),
      r: () => inbox?.reply(),
      n: () => inbox?.note(),
      a: () => inbox?.assignToMe(),
      e: () => inbox?.resolve(),
    };
    const action = actions[event.key];
    if (!action) return;
    event.preventDefault();
    action();
  });
}
