// The contact card: which topics a company may contact me about, how (push, email) and when
// not (quiet hours in my time zone). Each change takes effect at once and is written to my
// consent ledger with the version of this wording (CONTACT_TEXT).
import { get, put } from "../api.js";
import { h } from "../dom.js";
import { messageFor } from "../errors.js";
import { lang, t } from "../i18n.js";
import { errorLine } from "./form.js";

// the version of the card's wording; a change of the texts below gets a new one
export const CONTACT_TEXT = "contact-card-2";

const TOPICS = {
  replies: () => t("Replies in my conversations"),
  updates: () => t("Updates about my orders and cases"),
  news: () => t("News and offers"),
  feedback: () => t("A short rating when a conversation is resolved"),
};
const CHANNELS = {
  push: () => t("Push notification"),
  email: () => t("Email"),
};

// the ledger's names for contact choices (settings → consent history)
export const CONTACT_NAMES = {
  "topic:replies": TOPICS.replies,
  "topic:updates": TOPICS.updates,
  "topic:news": TOPICS.news,
  "topic:feedback": TOPICS.feedback,
  "channel:push": CHANNELS.push,
  "channel:email": () => t("Notifications by email"),
  quiet_hours: () => t("Quiet hours"),
  include_text: () => t("Message text in emails"),
};

function browserZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

let counter = 0;

function switchRow(label, checked, onChange, { hint = null, disabled = false } = {}) {
  counter += 1;
  const id = `contact-${counter}`;
  const toggle = h("input", {
    type: "checkbox",
    role: "switch",
    id,
    class: "switch",
    checked,
    disabled,
    on: { change: () => onChange(toggle.checked) },
  });
  return h(
    "li",
    { class: "privacy-row" },
    h(
      "label",
      { for: id },
      h("span", { class: "privacy-field", text: label }),
      hint ? h("span", { class: "privacy-since muted", text: hint }) : null,
    ),
    toggle,
  );
}

export function contactCard(store, slug) {
  const node = h("section", { class: "card contact", "aria-live": "polite" });
  const error = errorLine();
  let card = null;

  async function load() {
    try {
      card = await get(`/me/privacy/${slug}/contact`);
      draw();
    } catch (e) {
      node.replaceChildren(h("p", { class: "empty", role: "alert", text: messageFor(e) }));
    }
  }

  async function change(body) {
    error.show("");
    try {
      card = await put(`/me/privacy/${slug}/contact`, {
        screen: "privacy_card",
        text_version: CONTACT_TEXT,
        language: lang === "de" ? "de" : "en",
        ...body,
      });
    } catch (e) {
      error.show(messageFor(e));
    }
    draw();
  }

  function quietHours() {
    const q = card.quiet_hours;
    const on = switchRow(
      t("Quiet hours"),
      Boolean(q),
      (checked) =>
        change({
          quiet_hours: checked ? { start: "22:00", end: "07:00", time_zone: browserZone() } : null,
        }),
      { hint: t("Notifications wait until the quiet hours are over.") },
    );
    if (!q) return [on];
    const start = h("input", { type: "time", value: q.start, required: true, "aria-label": t("From") });
    const end = h("input", { type: "time", value: q.end, required: true, "aria-label": t("Until") });
    const zone = h("input", {
      value: q.time_zone,
      required: true,
      maxlength: 64,
      autocomplete: "off",
      spellcheck: false,
      "aria-label": t("Time zone"),
    });
    const form = h(
      "form",
      {
        class: "quiet-hours",
        on: {
          submit: (event) => {
            event.preventDefault();
            change({
              quiet_hours: { start: start.value, end: end.value, time_zone: zone.value.trim() },
            });
          },
        },
      },
      h("label", { class: "quiet-time" }, h("span", { text: t("From") }), start),
      h("label", { class: "quiet-time" }, h("span", { text: t("Until") }), end),
      h("label", { class: "quiet-zone" }, h("span", { text: t("Time zone") }), zone),
      h("button", { type: "submit", class: "button secondary", text: t("Save") }),
    );
    return [on, h("li", { class: "privacy-row quiet-row" }, form)];
  }

  function draw() {
    const topics = Object.keys(TOPICS).map((topic) =>
      switchRow(
        TOPICS[topic](),
        card.topics.includes(topic),
        (on) => change({ topics: { [topic]: on } }),
        topic === "replies" ? { hint: t("Always allowed"), disabled: true } : {},
      ),
    );
    const channels = Object.keys(CHANNELS).map((channel) =>
      switchRow(CHANNELS[channel](), card.channels.includes(channel), (on) =>
        change({ channels: { [channel]: on } }),
      ),
    );
    node.replaceChildren(
      h("h3", {
        class: "privacy-heading",
        text: t("How {company} may contact me", { company: card.company.name }),
      }),
      h("p", {
        class: "muted",
        text: t("{company} can only write to you about the topics you switch on.", {
          company: card.company.name,
        }),
      }),
      h("h4", { class: "contact-sub", text: t("Topics") }),
      h("ul", { class: "privacy-fields" }, topics),
      h("h4", { class: "contact-sub", text: t("Notify me by") }),
      h("ul", { class: "privacy-fields" }, channels),
      h("h4", { class: "contact-sub", text: t("When") }),
      h(
        "ul",
        { class: "privacy-fields" },
        ...quietHours(),
        switchRow(
          t("Message text in emails"),
          card.include_text,
          (on) => change({ include_text: on }),
          { hint: t("Off: the email only says that there is a reply.") },
        ),
      ),
      error.node,
    );
  }

  load();
  return {
    node,
    off: store.on("privacy", (data) => {
      if (card && data.company_id === card.company.id) load();
    }),
  };
}
