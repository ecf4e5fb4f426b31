// One entry of a thread as the company sees it: the customer's messages on the left, the
// team's replies on the right, private notes as a distinct amber block, bots and system notices
// labelled. Text only ever becomes text nodes; links are made with linkify.
import { attachmentUrl } from "../messenger/api.js";
import { h, linkify } from "../messenger/dom.js";
import { attachmentNode, download } from "../messenger/files.js";
import { t } from "../messenger/i18n.js";
import { fullDate, timeOfDay } from "../messenger/time.js";
import { icon } from "../icons.js";

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
    h("button", {
      type: "button",
      class: "secondary",
      text: t("Download"),
      on: { click: () => download(attachment) },
    }),
  );
  close.addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  attachmentUrl(attachment.id)
    .then((url) => {
      image.src = url;
    })
    .catch(() => image.replaceWith(h("p", { text: t("This file could not be loaded.") })));
}

// Note text with the @mentions of colleagues set apart.
function noteText(text, names) {
  const fragment = document.createDocumentFragment();
  if (!names.length) {
    fragment.append(linkify(text));
    return fragment;
  }
  const escaped = names
    .sort((a, b) => b.length - a.length)
    .map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  const pattern = new RegExp(`@(?:${escaped.join("|")})`, "g");
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    fragment.append(linkify(text.slice(last, match.index)));
    fragment.append(h("strong", { class: "mention", text: match[0] }));
    last = match.index + match[0].length;
  }
  fragment.append(linkify(text.slice(last)));
  return fragment;
}

function meta(message, extra) {
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
    extra,
  );
}

// ``state``: for the newest reply, "sending", "sent" or "seen" (read by the customer)
export function messageNode(
  message,
  { customer, author = "", agentNames = [], state = null, hit = false, first = true },
) {
  const files = (message.attachments || []).map((a) =>
    attachmentNode(a, { width: 200, icon, open: openImage }),
  );
  const classes = ["msg", `msg-${message.kind}`];
  if (message.pending) classes.push("msg-pending");
  if (hit) classes.push("msg-hit");
  if (!first) classes.push("msg-cont");
  const attrs = { class: classes.join(" "), "data-seq": message.seq ?? "" };
  if (message.kind === "system") {
    return h(
      "li",
      attrs,
      h("p", { class: "system-text" }, message.body, " · ", meta(message, null)),
    );
  }
  let who;
  let badge = null;
  if (message.kind === "customer") who = customer || t("Customer");
  else who = author || message.author?.name || t("Company");
  if (message.kind === "note") {
    badge = h("span", { class: "badge badge-note" }, icon("note"), t("Private note"));
  } else if (message.kind === "bot") {
    badge = h("span", { class: "badge", text: t("Bot") });
  }
  const stateText = {
    sending: t("Sending…"),
    sent: t("Sent"),
    seen: t("Seen by the customer"),
  }[state];
  const text = message.body
    ? h(
        "p",
        { class: "text" },
        message.kind === "note" ? noteText(message.body, agentNames) : linkify(message.body),
      )
    : null;
  return h(
    "li",
    attrs,
    h(
      "article",
      {
        class: "bubble",
        "aria-label": message.kind === "note" ? t("Private note by {name}", { name: who }) : null,
      },
      first || badge
        ? h("p", { class: "author" }, h("span", { class: "author-name", text: who }), badge)
        : h("p", { class: "sr-only", text: who }),
      files.length ? h("div", { class: "files" }, files) : null,
      text,
      meta(
        message,
        stateText ? h("span", { class: `state state-${state}`, text: stateText }) : null,
      ),
    ),
  );
}

export function signature(message, state, hit) {
  return `${message.id || message.client_id}|${message.body}|${(message.attachments || []).length}|${state}|${hit}`;
}
