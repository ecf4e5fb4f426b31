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
import { get, post } from "../messenger/api.js";
import { messageFor } from "../messenger/errors.js";

const TOPIC_NAMES = {
  replies: () => t("Replies"),
  updates: () => t("Updates"),
  news: () => t("News"),
  feedback: () => t("Feedback requests"),
};
const CHANNEL_NAMES = { push: () => t("Push"), email: () => t("Email") };
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
  // what the customer allows us: topics and channels, nothing else of their settings
  const contact = h("div", { class: "contact-allowed" });
  let contactFor = null;
  let allowed = null;

  function drawContact() {
    if (!allowed) {
      fill(contact);
      return;
    }
    const names = (list, map) => list.map((x) => (map[x] ? map[x]() : x)).join(", ");
    fill(
      contact,
      h(
        "dl",
        { class: "facts" },
        fact(t("Topics"), names(allowed.topics, TOPIC_NAMES)),
        fact(t("Channels"), allowed.channels.length ? names(allowed.channels, CHANNEL_NAMES) : t("None")),
      ),
      newMessageForm(),
    );
  }

  // "New message to customer": a conversation for a topic the customer opted into
  function newMessageForm() {
    const topics = allowed.topics.filter((x) => x !== "replies");
    const error = h("p", { class: "form-error", role: "alert" });
    error.hidden = true;
    const topic = h(
      "select",
      { "aria-label": t("Contact topic") },
      ["updates", "news"].map((x) => h("option", { value: x, text: TOPIC_NAMES[x]() })),
    );
    const subject = h("input", { maxlength: 200, required: true, "aria-label": t("Subject"), placeholder: t("Subject") });
    const body = h("textarea", { rows: 3, required: true, "aria-label": t("Message"), placeholder: t("Message") });
    const form = h(
      "form",
      {
        class: "new-to-customer",
        on: {
          submit: async (event) => {
            event.preventDefault();
            error.hidden = true;
            try {
              const started = await post(
                `/companies/${store.slug}/customers/${conversation.customer_id}/conversations`,
                { topic: topic.value, subject: subject.value, body: body.value },
              );
              location.hash = linkFor(started.conversation.id).replace(/^#/, "");
            } catch (e) {
              error.textContent =
                e.code === "contact_not_permitted"
                  ? t("Not sent: the customer has not allowed messages about this topic.")
                  : messageFor(e);
              error.hidden = false;
            }
          },
        },
      },
      topic,
      subject,
      body,
      h("button", { type: "submit", class: "button", text: t("Send") }),
      error,
    );
    return h(
      "details",
      { class: "new-message" },
      h("summary", {
        text: topics.length ? t("New message to customer") : t("New message to customer (no topic allowed)"),
      }),
      form,
    );
  }

  async function loadContact() {
    const customerId = conversation?.customer_id;
    if (!customerId || contactFor === customerId) return;
    contactFor = customerId;
    allowed = null;
    try {
      allowed = await get(`/companies/${store.slug}/customers/${customerId}/contact`);
    } catch {
      allowed = null;
    }
    drawContact();
  }
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
      h("h3", { class: "panel-heading", text: t("Contact allowed") }),
      contact,
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
        fact(t("Rating"), ratingText()),
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

  // the customer's rating (CSAT), once given
  let rating = null;
  let ratingFor = null;

  function ratingText() {
    if (!rating?.score || ratingFor !== conversation?.id) return null;
    const stars = h("span", {
      class: "stars-shown",
      "aria-label": t("{n} of 5 stars", { n: rating.score }),
      text: "★".repeat(rating.score) + "☆".repeat(5 - rating.score),
    });
    return rating.comment
      ? h("span", {}, stars, h("span", { class: "rating-comment", text: ` “${rating.comment}”` }))
      : stars;
  }

  async function loadRating(force = false) {
    const id = conversation?.id;
    if (!id || (!force && ratingFor === id)) return;
    ratingFor = id;
    rating = null;
    try {
      const got = await get(`/conversations/${id}/rating`);
      if (conversation?.id === id) rating = got;
    } catch {
      rating = null;
    }
    if (conversation?.id === id) draw();
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
    store.on("rating", ({ id }) => {
      if (conversation && id === conversation.id) loadRating(true);
    }),
    store.on("contact", (data) => {
      if (conversation && data.customer_id === conversation.customer_id) {
        contactFor = null;
        loadContact();
      }
    }),
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
      if (next) {
        loadEarlier();
        loadContact();
        loadRating();
      }
    },
    destroy() {
      offs.forEach((off) => off());
    },
  };
}
