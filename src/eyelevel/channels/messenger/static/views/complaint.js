// The customer's complaint case in the chat: what the company recorded, where it stands, and
// what it promised (and by when). Never the company's policy, its trail or a proposal that a
// lead has not approved yet: the API does not give those to customers. Live on
// ``complaint.changed``.
import { ApiError, get } from "../api.js";
import { h } from "../dom.js";
import { t } from "../i18n.js";

function remedyText(remedy) {
  return (
    {
      replacement: t("a replacement"),
      repair: t("a repair"),
      refund: t("a refund"),
      voucher: t("a voucher"),
    }[remedy] || remedy
  );
}

function stateText(state) {
  return (
    {
      open: t("We are looking into your complaint."),
      approval_pending: t("Your complaint is being reviewed."),
      granted: t("Your complaint was accepted."),
      rejected: t("We could not accept your complaint."),
      fulfilled: t("Done: we kept our promise."),
    }[state] || ""
  );
}

const lang = () => document.documentElement.lang || "en";

function euros(cents) {
  if (cents === null || cents === undefined || cents === 0) return "";
  return new Intl.NumberFormat(lang(), { style: "currency", currency: "EUR" }).format(cents / 100);
}

function day(iso) {
  const date = new Date(`${iso}T12:00:00`);
  return date.toLocaleDateString(lang(), { weekday: "long", day: "numeric", month: "long" });
}

export function caseCard(store, conversationId) {
  const node = h("section", { class: "case-card", "aria-live": "polite" });
  node.hidden = true;

  function draw(c) {
    if (!c) {
      node.hidden = true;
      node.replaceChildren();
      return;
    }
    const product = [c.product, c.reference].filter(Boolean).join(" · ");
    const granted = c.granted_remedy
      ? t("You get {remedy}.", { remedy: remedyText(c.granted_remedy) })
      : "";
    const amount = c.granted_remedy ? euros(c.granted_amount_cents) : "";
    const due = c.promise_due && c.state === "granted" ? t("By {date}", { date: day(c.promise_due) }) : "";
    node.hidden = false;
    node.className = `case-card case-${c.state}`;
    const parts = [
      h("h2", { class: "case-title", text: t("Your complaint") }),
      product ? h("p", { class: "case-product", text: product }) : null,
      h("p", { class: "case-state", text: stateText(c.state) }),
      granted ? h("p", { text: amount ? `${granted} (${amount})` : granted }) : null,
      c.promise ? h("p", { class: "case-promise", text: c.promise }) : null,
      due ? h("p", { class: "case-due", text: due }) : null,
      c.overdue_at && c.state === "granted"
        ? h("p", {
            class: "case-overdue",
            text: t("This is taking longer than we promised. We are on it and will tell you here."),
          })
        : null,
    ];
    node.replaceChildren(...parts.filter(Boolean));
  }

  async function load() {
    try {
      draw(await get(`/conversations/${conversationId}/complaint`));
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) draw(null);
    }
  }

  const off = store.on("complaint", (data) => {
    if (data.conversation_id === conversationId) load();
  });
  load();
  return { node, destroy: off };
}
