// Notifications in the corner: a colleague mentioned me in a note; a promise I owe is at 80 %
// of its time; a promise broke in my team (leads). Each one is also said to screen readers,
// stays until dismissed or opened, and links to the conversation.
import { h } from "../messenger/dom.js";
import { t } from "../messenger/i18n.js";
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
    const text = (message.body || "").replace(/\s+/g, " ").slice(0, 160);
    show("at", title, text, conversation, message.conversation_id, "mentions");
  });

  // SLA: the warning goes to the agent who owns the conversation (everyone, while a queue
  // owns it); a breach to the leads the server names
  store.on("sla", ({ type, data }) => {
    const id = data.conversation_id;
    const conversation = store.conversations.get(id);
    const owner = conversation?.owner;
    if (type === "conversation.sla_breached") {
      if (!(data.leads || []).includes(store.me.id)) return;
      const title = t("A promise was broken");
      const text = data.reassigned
        ? t("The answer is overdue; the conversation went back to the team queue.")
        : t("The answer is overdue.");
      show("clock", title, text, conversation, id, "all", "toast-late");
      return;
    }
    if (owner?.type === "agent" && owner.id !== store.me.id) return;
    const title = t("80 % of the promised time is used");
    const text = t("Please answer soon.");
    const view = owner?.type === "agent" ? "mine" : "unassigned";
    show("clock", title, text, conversation, id, view, "toast-risk");
  });

  function show(iconName, title, text, conversation, id, view, extra = "") {
    const about = conversation ? customerName(conversation) : "";
    const close = h(
      "button",
      { type: "button", class: "icon-btn", "aria-label": t("Dismiss") },
      icon("close"),
    );
    const toast = h(
      "div",
      { class: `toast ${extra}`.trim(), role: "group", "aria-label": title },
      icon(iconName),
      h(
        "div",
        { class: "toast-body" },
        h("p", { class: "toast-title", text: about ? `${title} · ${about}` : title }),
        h("p", { class: "toast-text", text }),
        h("a", {
          href: `#/inbox/${view}/${id}`,
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
  }
  return region;
}
