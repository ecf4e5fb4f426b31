// Notifications in the corner: a colleague mentioned me in a note. Each one is also said to
// screen readers, stays until dismissed or opened, and links to the conversation.
import { h } from "../messenger/dom.js";
import { t } from "../messenger/i18n.js";
import { timeOfDay } from "../messenger/time.js";
import { icon } from "../icons.js";
import { customerName } from "../format.js";

const MAX = 4;

export function toasts(store) {
  const region = h("section", { class: "toasts", "aria-label": t("Notifications") });
  const spoken = document.getElementById("alerts");

  store.on("mentioned", ({ message }) => {
    const conversation = store.conversations.get(message.conversation_id);
    const who = store.authorName(message) || t("A colleague");
    const title = t("{name} mentioned you", { name: who });
    const about = conversation ? customerName(conversation) : "";
    const text = (message.body || "").replace(/\s+/g, " ").slice(0, 160);
    const close = h(
      "button",
      { type: "button", class: "icon-btn", "aria-label": t("Dismiss") },
      icon("close"),
    );
    const toast = h(
      "div",
      { class: "toast", role: "group", "aria-label": title },
      icon("at"),
      h(
        "div",
        { class: "toast-body" },
        h("p", { class: "toast-title", text: about ? `${title} · ${about}` : title }),
        h("p", { class: "toast-text", text }),
        h("a", {
          href: `#/inbox/mentions/${message.conversation_id}`,
          class: "toast-link",
          text: t("Open the conversation"),
        }),
      ),
      close,
    );
    close.addEventListener("click", () => toast.remove());
    toast.querySelector("a").addEventListener("click", () => toast.remove());
    region.prepend(toast);
    while (region.children.length > MAX) region.lastChild.remove();
    if (spoken) {
      spoken.textContent = "";
      setTimeout(() => {
        spoken.textContent = `${title}: ${text}`;
      }, 50);
    }
  });
  store.on("callback-alert", ({ kind, data }) => {
    const title = kind === "reminder" ? t("Callback in 10 minutes") : t("Callback missed");
    const text = `${timeOfDay(data.slot_start)}`;
    const close = h(
      "button",
      { type: "button", class: "icon-btn", "aria-label": t("Dismiss") },
      icon("close"),
    );
    const toast = h(
      "div",
      { class: "toast", role: "group", "aria-label": title, "data-kind": `callback-${kind}` },
      icon("phone"),
      h(
        "div",
        { class: "toast-body" },
        h("p", { class: "toast-title", text: title }),
        h("p", { class: "toast-text", text }),
        h("a", {
          href: `#/inbox/all/${data.conversation_id}`,
          class: "toast-link",
          text: t("Open the conversation"),
        }),
      ),
      close,
    );
    close.addEventListener("click", () => toast.remove());
    toast.querySelector("a").addEventListener("click", () => toast.remove());
    region.prepend(toast);
    while (region.children.length > MAX) region.lastChild.remove();
    if (spoken) spoken.textContent = `${title}: ${text}`;
  });
  return region;
}
