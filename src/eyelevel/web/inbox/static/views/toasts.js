// Notifications in the corner: a colleague mentioned me in a note; a promise I owe is at 80 %
// of its time, or one broke in my team (leads); a colleague asks the leads to approve
// goodwill; a callback is due or was missed. Each one is also said to screen readers, stays
// until dismissed or opened, and links to the conversation.
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

  // one toast about a conversation, opened in ``view`` (mine, all, mentions …)
  function show(iconName, title, text, id, view, { extra = "", kind = null } = {}) {
    const conversation = store.conversations.get(id);
    const about = conversation ? customerName(conversation) : "";
    const heading = about ? `${title} · ${about}` : title;
    const close = h(
      "button",
      { type: "button", class: "icon-btn", "aria-label": t("Dismiss") },
      icon("close"),
    );
    const toast = h(
      "div",
      {
        class: `toast ${extra}`.trim(),
        role: "group",
        "aria-label": heading,
        "data-kind": kind,
      },
      icon(iconName),
      h(
        "div",
        { class: "toast-body" },
        h("p", { class: "toast-title", text: heading }),
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
        spoken.textContent = `${heading}: ${text}`;
      }, 50);
    }
  }

  store.on("mentioned", ({ message }) => {
    const who = store.authorName(message) || t("A colleague");
    const title = t("{name} mentioned you", { name: who });
    const text = (message.body || "").replace(/\s+/g, " ").slice(0, 160);
    show("at", title, text, message.conversation_id, "mentions");
  });

  // SLA: the warning goes to the agent who owns the conversation (everyone, while a queue
  // owns it); a breach to the leads the server names
  store.on("sla", ({ type, data }) => {
    const id = data.conversation_id;
    const owner = store.conversations.get(id)?.owner;
    if (type === "conversation.sla_breached") {
      if (!(data.leads || []).includes(store.me.id)) return;
      const title = t("A promise was broken");
      const text = data.reassigned
        ? t("The answer is overdue; the conversation went back to the team queue.")
        : t("The answer is overdue.");
      show("clock", title, text, id, "all", { extra: "toast-late" });
      return;
    }
    if (owner?.type === "agent" && owner.id !== store.me.id) return;
    const title = t("80 % of the promised time is used");
    const text = t("Please answer soon.");
    const view = owner?.type === "agent" ? "mine" : "unassigned";
    show("clock", title, text, id, view, { extra: "toast-risk" });
  });

  // a colleague asks the leads to approve goodwill beyond the policy
  store.on("approval", (data) => {
    if (!store.isLead()) return;
    const title = t("{name} asks for approval", { name: data.requested_by || t("A colleague") });
    const text = t("{remedy}, {amount}", {
      remedy: remedyName(data.remedy),
      amount: euros(data.amount_cents),
    });
    show("check", title, text, data.conversation_id, "all");
  });

  // a granted remedy was not delivered by its date: the leads follow it up
  store.on("overdue", (data) => {
    if (!store.isLead()) return;
    const title = t("A complaint promise is overdue");
    show("clock", title, t("The promised date has passed."), data.conversation_id, "all", {
      extra: "toast-late",
    });
  });

  store.on("callback-alert", ({ kind, data }) => {
    const title = kind === "reminder" ? t("Callback in 10 minutes") : t("Callback missed");
    show("phone", title, timeOfDay(data.slot_start), data.conversation_id, "all", {
      kind: `callback-${kind}`,
    });
  });
  return region;
}
