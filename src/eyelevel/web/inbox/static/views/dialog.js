// Modal dialogs on the native <dialog>: focus is trapped by the browser, Esc closes, the focus
// returns to where it was. ``confirmDialog`` asks yes or no; ``snoozeDialog`` asks for a time.
import { h } from "../messenger/dom.js";
import { t } from "../messenger/i18n.js";
import { errorLine, field, uid } from "./form.js";

export function modal(title, build, { className = "" } = {}) {
  const titleId = uid("dlg");
  const before = document.activeElement;
  const dialog = h("dialog", { class: `modal ${className}`.trim(), "aria-labelledby": titleId });
  const heading = h("h2", { id: titleId, text: title });
  dialog.append(heading);
  document.body.append(dialog);
  const done = new Promise((resolve) => {
    const finish = (value) => {
      if (dialog.open) dialog.close();
      resolve(value);
    };
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve(null);
      if (before && before.isConnected) before.focus();
    });
    dialog.append(...[build(finish)].flat());
  });
  dialog.showModal();
  return done;
}

export function confirmDialog(title, text, confirmLabel, { danger = false } = {}) {
  return modal(title, (finish) => [
    h("p", { text }),
    h(
      "div",
      { class: "dialog-actions" },
      h("button", {
        type: "button",
        class: "secondary",
        text: t("Cancel"),
        on: { click: () => finish(false) },
      }),
      h("button", {
        type: "button",
        class: danger ? "danger" : "primary",
        text: confirmLabel,
        on: { click: () => finish(true) },
      }),
    ),
  ]);
}

function pad(n) {
  return String(n).padStart(2, "0");
}

export function localInputValue(date) {
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(
    date.getHours(),
  )}:${pad(date.getMinutes())}`;
}

function at(daysAhead, hour) {
  const d = new Date();
  d.setDate(d.getDate() + daysAhead);
  d.setHours(hour, 0, 0, 0);
  return d;
}

function nextMonday() {
  const d = new Date();
  const ahead = (8 - d.getDay()) % 7 || 7;
  return at(ahead, 9);
}

// resolves with a Date in the future, or null when cancelled
export function snoozeDialog() {
  return modal(t("Snooze until"), (finish) => {
    const when = field({
      label: t("Date and time"),
      type: "datetime-local",
      required: true,
      autofocus: true,
      min: localInputValue(new Date()),
      value: localInputValue(at(1, 9)),
    });
    const error = errorLine();
    const quick = [
      [t("In 1 hour"), () => new Date(Date.now() + 3600000)],
      [t("Tomorrow, 9:00"), () => at(1, 9)],
      [t("Monday, 9:00"), nextMonday],
    ].map(([label, make]) =>
      h("button", {
        type: "button",
        class: "chip",
        text: label,
        on: {
          click: () => {
            when.control.value = localInputValue(make());
            when.control.focus();
          },
        },
      }),
    );
    const form = h(
      "form",
      { class: "stack", method: "dialog", novalidate: true },
      h("div", { class: "chips", role: "group", "aria-label": t("Quick choices") }, quick),
      when.node,
      error.node,
      h(
        "div",
        { class: "dialog-actions" },
        h("button", {
          type: "button",
          class: "secondary",
          text: t("Cancel"),
          on: { click: () => finish(null) },
        }),
        h("button", { type: "submit", class: "primary", text: t("Snooze") }),
      ),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const value = when.control.value;
      const date = value ? new Date(value) : null;
      if (!date || Number.isNaN(date.getTime())) {
        error.show(t("Choose a date and a time."));
        return;
      }
      if (date.getTime() <= Date.now()) {
        error.show(t("Choose a time in the future."));
        return;
      }
      finish(date);
    });
    return form;
  });
}
