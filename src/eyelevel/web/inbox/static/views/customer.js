// The customer beside the conversation: the display name, and whatever else the customer
// shares with this company right now (it changes live when they grant or revoke a field),
// this conversation's facts, and the customer's earlier conversations with this company.
import { avatar, h } from "../messenger/dom.js";
import { t } from "../messenger/i18n.js";
import { listTime, timeOfDay } from "../messenger/time.js";
import { customerName, dateTime, since, statusName } from "../format.js";
import { preview } from "../store.js";
import { fill } from "../fill.js";
import { complaintSection } from "./complaint.js";
import { errorLine } from "./form.js";
import { routedBy, topicSelect } from "./topic.js";

// a time today, else the list's short date and the time
function timeOrDate(iso) {
  const today = new Date().toDateString() === new Date(iso).toDateString();
  return today ? timeOfDay(iso) : `${listTime(iso)} ${timeOfDay(iso)}`;
}

export function customerPanel(store, { linkFor }) {
  let conversation = null;
  let loadedFor = null;
  const node = h("aside", {
    id: "customer-panel",
    class: "customer-panel",
    "aria-label": t("Customer"),
  });
  const earlier = h("ul", { class: "earlier", "aria-label": t("Earlier conversations") });
  const complaint = complaintSection(store);
  const topicError = errorLine();

  function fact(term, value) {
    return value ? [h("dt", { text: term }), h("dd", {}, value)] : null;
  }

  function labelChips() {
    const ids = conversation?.labels || [];
    const chips = ids
      .map((id) => store.label(id))
      .filter(Boolean)
      .map((l) => {
        const chip = h(
          "span",
          { class: "label-chip" },
          h("span", { class: "swatch", "aria-hidden": "true" }),
          l.name,
        );
        chip.firstChild.style.backgroundColor = l.color;
        return chip;
      });
    return chips.length ? h("span", { class: "chips" }, chips) : t("None");
  }

  function draw() {
    if (!conversation) {
      fill(node);
      return;
    }
    const name = customerName(conversation);
    const shared = conversation.customer || {};
    const erased = Boolean(shared.erased);
    const refocus = node.contains(document.activeElement) && document.activeElement.matches("select.topic-select");
    const fullName = [shared.first_name, shared.last_name].filter(Boolean).join(" ");
    const phone = shared.phone;
    fill(
      node,
      h(
        "div",
        { class: "customer-card" },
        avatar(name, "large"),
        h("h3", { class: "customer-name", text: name }),
        shared.email
          ? h("a", { class: "customer-email", href: `mailto:${shared.email}`, text: shared.email })
          : null,
      ),
      h(
        "dl",
        { class: "facts shared-fields", "aria-label": t("Shared by the customer") },
        fact(t("Full name"), fullName || null),
        fact(
          t("Phone"),
          phone ? h("a", { href: `tel:${phone.replace(/[^+0-9]/g, "")}`, text: phone }) : null,
        ),
        fact(t("Address"), shared.address ? h("span", { class: "address", text: shared.address }) : null),
        fact(t("Customer number"), shared.customer_number || null),
      ),
      h("p", {
        class: "muted privacy-note",
        text: erased
          ? t("The customer has deleted their account. Nothing of them is left but this conversation under legal hold.")
          : (shared.shared || []).length
            ? t("The customer decides what you see and can change it at any time.")
            : t("The customer shares only their display name with you."),
      }),
      h("h3", { class: "panel-heading", text: t("This conversation") }),
      h(
        "dl",
        { class: "facts" },
        fact(t("Status"), statusName(conversation.status)),
        fact(t("Owner"), store.ownerName(conversation.owner)),
        fact(t("Started"), conversation.created_at ? dateTime(conversation.created_at) : null),
        fact(
          t("Waiting"),
          conversation.waiting_since
            ? t("{time} (since {at})", {
                time: since(conversation.waiting_since),
                at: timeOrDate(conversation.waiting_since),
              })
            : t("No"),
        ),
        conversation.status === "snoozed" && conversation.snoozed_until
          ? fact(t("Snoozed until"), dateTime(conversation.snoozed_until))
          : null,
        fact(t("Labels"), labelChips()),
        store.topics.length || conversation.topic_id
          ? fact(
              t("Topic"),
              topicSelect(store, conversation, {
                onError: (text) => topicError.show(text),
                readOnly: erased,
              }),
            )
          : null,
        fact(t("Routed by"), routedBy(store, conversation)),
      ),
      topicError.node,
      erased ? null : complaint.node,
      h("h3", { class: "panel-heading", text: t("Earlier conversations") }),
      earlier,
    );
    if (refocus) node.querySelector("select.topic-select")?.focus();
  }

  async function loadEarlier() {
    const customerId = conversation?.customer_id;
    if (!customerId || loadedFor === conversation.id) return;
    loadedFor = conversation.id;
    fill(earlier, h("li", { class: "muted", text: t("Loading…") }));
    try {
      const page = await store.list({
        customer_id: String(customerId),
        limit: "20",
        sort: "newest",
      });
      const others = page.items.filter((c) => c.id !== conversation.id);
      fill(
        earlier,
        ...(others.length
          ? others.map((c) =>
              h(
                "li",
                {},
                h(
                  "a",
                  { href: linkFor(c.id), class: "earlier-link" },
                  h("span", {
                    class: "earlier-title",
                    text: c.subject || preview(c.last_message) || t("Conversation"),
                  }),
                  h("span", {
                    class: "earlier-meta",
                    text: `${statusName(c.status)} · ${listTime(c.last_message_at || c.created_at)}`,
                  }),
                ),
              ),
            )
          : [h("li", { class: "muted", text: t("None") })]),
      );
    } catch {
      fill(earlier, h("li", { class: "muted", text: t("Could not be loaded.") }));
    }
  }

  const offs = [
    store.on("conversation", (detail) => {
      if (conversation && detail.id === conversation.id) {
        conversation = store.conversations.get(detail.id) || conversation;
        draw();
      }
    }),
    store.on("labels", draw),
    store.on("staff", draw),
    store.on("topics", draw),
    store.on("rules", draw),
  ];

  return {
    node,
    show(next) {
      const changed = next?.id !== conversation?.id;
      conversation = next;
      if (changed) topicError.show("");
      if (changed) loadedFor = null;
      complaint.show(next);
      draw();
      if (next) loadEarlier();
    },
    destroy() {
      offs.forEach((off) => off());
    },
  };
}
