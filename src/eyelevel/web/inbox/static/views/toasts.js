// Notifications in the corner: a colleague mentioned me in a note, or (for leads) asks to
// approve goodwill. Each one is also said to screen readers, stays until dismissed or opened,
// and links to the conversation.
import { h } from "../messenger/dom.js";
import { t } from "../messenger/i18n.js";
import { timeOfDay } from "../messenger/time.js";
import { icon } from "../icons.js";
import { customerName } from "../format.js";
import { euros, remedyName } from "./complaint.js";

const MAX = 4;

export function toasts(store) {
  const region = h("section", { class: "toasts", "aria-label": t("Notifications") });
  const spoken = document.getElementById("alerts");

  // one toast: stays until dismissed or opened, and is said to screen readers
  function show(symbol, title, text, href) {
    const close = h(
      "button",
      { type: "button", class: "icon-btn", "aria-label": t("Dismiss") },
      icon("close"),
    );
    const toast = h(
      "div",
      { class: "toast", role: "group", "aria-label": title },
      symbol,
      h(
        "div",
        { class: "toast-body" },
        h("p", { class: "toast-title", text: title }),
        h("p", { class: "toast-text", text }),
        h("a", { href, class: "toast-link", text: t("Open the conversation") }),
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
  }

  store.on("mentioned", ({ message }) => {
    const conversation = store.conversations.get(message.conversation_id);
    const who = store.authorName(message) || t("A colleague");
    const title = t("{name} mentioned you", { name: who });
    const about = conversation ? customerName(conversation) : "";
    const text = (message.body || "").replace(/\s+/g, " ").slice(0, 160);
    show(
      icon("at"),
      about ? `${title} · ${about}` : title,
      text,
      `#/inbox/mentions/${message.conversation_id}`,
    );
  });
  // a colleague asks the leads to approve goodwill beyond the policy
  store.on("approval", (data) => {
    if (!store.isLead()) return;
    const conversation = store.conversations.get(data.conversation_id);
    const about = conversation ? customerName(conversation) : "";
    const title = t("{name} asks for approval", { name: data.requested_by || t("A colleague") });
    const text = t("{remedy}, {amount}", {
      remedy: remedyName(data.remedy),
      amount: euros(data.amount_cents),
    });
    show(
      icon("check"),
      about ? `${title} · ${about}` : title,
      text,
      `#/inbox/all/${data.conversation_id}`,
    );
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
