// One entry of a thread: the customer's own messages on the right with their delivery state,
// the company's on the left with the agent's first name, bots and system notices labelled.
import { attachmentUrl } from "../api.js";
import { h, icon, linkify } from "../dom.js";
import { attachmentNode, download } from "../files.js";
import { t } from "../i18n.js";
import { fullDate, timeOfDay } from "../time.js";

export function deliveryState(message, conversation) {
  if (message.pending) return "sending";
  return message.seq <= (conversation?.read?.company || 0) ? "read" : "sent";
}

const STATE_TEXT = {
  sending: () => t("Sending…"),
  sent: () => t("Sent"),
  read: () => t("Read by the company"),
};

function openImage(attachment) {
  const image = h("img", { alt: attachment.name, class: "lightbox-img" });
  const close = h(
    "button",
    { type: "button", class: "icon-btn lightbox-close", "aria-label": t("Close") },
    icon("close"),
  );
  const dialog = h(
    "dialog",
    { class: "lightbox", "aria-label": attachment.name },
    close,
    image,
    h(
      "button",
      { type: "button", class: "secondary", on: { click: () => download(attachment) } },
      t("Download"),
    ),
  );
  close.addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => dialog.remove());
  dialog.addEventListener("click", (event) => {
    if (event.target === dialog) dialog.close();
  });
  document.body.append(dialog);
  dialog.showModal();
  attachmentUrl(attachment.id)
    .then((url) => {
      image.src = url;
    })
    .catch(() => {
      image.replaceWith(h("p", { text: t("This file could not be loaded.") }));
    });
}

function body(text) {
  return text ? h("p", { class: "text" }, linkify(text)) : null;
}

const TICKS = { sent: "✓", read: "✓✓" };

// The newest own message says its state in words; earlier ones show ticks (words for
// screen readers), except those still being sent.
function stateNode(state, inWords) {
  if (!state) return null;
  const text = STATE_TEXT[state]();
  if (inWords || state === "sending") {
    return h("span", { class: `state state-${state}`, text });
  }
  return h(
    "span",
    { class: `state state-${state}`, title: text },
    h("span", { "aria-hidden": "true", text: TICKS[state] }),
    h("span", { class: "sr-only", text }),
  );
}

function meta(message, state, inWords = false) {
  return h(
    "p",
    { class: "meta" },
    message.created_at
      ? h("time", {
          datetime: message.created_at,
          title: fullDate(message.created_at),
          text: timeOfDay(message.created_at),
        })
      : null,
    stateNode(state, inWords),
  );
}

export function messageNode(message, conversation, { first = true, newestOwn = false } = {}) {
  const files = (message.attachments || []).map((a) =>
    attachmentNode(a, { width: 240, icon, open: openImage }),
  );
  if (message.kind === "system") {
    return h(
      "li",
      { class: "msg msg-system" },
      h(
        "div",
        { class: "system" },
        h("span", { class: "label", text: t("System") }),
        body(message.body),
        meta(message, null),
      ),
    );
  }
  if (message.kind === "customer") {
    const state = deliveryState(message, conversation);
    return h(
      "li",
      { class: `msg msg-own${state === "sending" ? " msg-pending" : ""}${first ? "" : " msg-cont"}` },
      h("div", { class: "bubble" }, files, body(message.body), meta(message, state, newestOwn)),
    );
  }
  const bot = message.kind === "bot";
  const name = message.author?.name || "";
  return h(
    "li",
    { class: `msg msg-company${bot ? " msg-bot" : ""}${first ? "" : " msg-cont"}` },
    h(
      "div",
      { class: "bubble" },
      first || bot
        ? h(
            "p",
            { class: "author" },
            bot ? h("span", { class: "label label-bot", text: t("Bot") }) : null,
            h("span", { text: name || (bot ? t("Automatic reply") : t("Company")) }),
          )
        : null,
      files,
      body(message.body),
      meta(message, null),
    ),
  );
}

// a key that changes whenever the node would look different
export function signature(message, conversation) {
  const state = message.kind === "customer" ? deliveryState(message, conversation) : "";
  const files = (message.attachments || []).length;
  return `${message.id || message.client_id}|${state}|${message.body}|${files}`;
}
