// All conversations with all companies, latest activity first.
import { avatar, h } from "../dom.js";
import { messageFor } from "../errors.js";
import { t, tn } from "../i18n.js";
import { listTime } from "../time.js";
import { bar, iconLink } from "./bar.js";
import { statusChip } from "./status.js";
import { needsVerification, verifyNotice } from "./verify.js";

function preview(store, conversation) {
  const last = conversation.last_message;
  if (!last) return "";
  const files = last.attachments || [];
  let text = last.body;
  if (!text && files.length) {
    text = files[0].content_type.startsWith("image/") ? t("Photo") : t("File");
  }
  return last.kind === "customer" ? t("You: {text}", { text }) : text;
}

function row(store, conversation) {
  const name = conversation.company?.name || t("Company");
  const unread = conversation.unread || 0;
  return h(
    "li",
    {},
    h(
      "a",
      { class: `conv${unread ? " conv-unread" : ""}`, href: `#/chat/${conversation.id}` },
      avatar(name),
      h(
        "span",
        { class: "conv-main" },
        h(
          "span",
          { class: "conv-top" },
          h("span", { class: "conv-name", text: name }),
          h("time", {
            class: "conv-time",
            datetime: conversation.last_message_at || "",
            text: listTime(conversation.last_message_at),
          }),
        ),
        h(
          "span",
          { class: "conv-bottom" },
          h("span", { class: "conv-preview", text: preview(store, conversation) }),
          conversation.status !== "open" && conversation.status !== "snoozed"
            ? statusChip(conversation.status)
            : null,
          unread
            ? h("span", {
                class: "badge",
                text: unread > 99 ? "99+" : String(unread),
                "aria-label": tn("{n} unread message", "{n} unread messages", unread),
              })
            : null,
        ),
      ),
    ),
  );
}

function pendingRows(store) {
  const starts = (store.outbox?.items || []).filter((i) => !i.conversation_id && !i.draft);
  return starts.map((item) =>
    h(
      "li",
      {},
      h(
        "a",
        { class: "conv", href: `#/new/${encodeURIComponent(item.company)}` },
        avatar(item.company_name || item.company),
        h(
          "span",
          { class: "conv-main" },
          h(
            "span",
            { class: "conv-top" },
            h("span", { class: "conv-name", text: item.company_name || item.company }),
            h("span", { class: "conv-time", text: t("Sending…") }),
          ),
          h("span", { class: "conv-bottom" }, h("span", { class: "conv-preview", text: item.body })),
        ),
      ),
    ),
  );
}

export function inboxView(root, { store }) {
  const { header } = bar({
    title: t("Messages"),
    actions: [
      iconLink("#/find", "plus", t("New conversation")),
      iconLink("#/settings", "menu", t("Settings")),
    ],
  });
  const notice = h("div");
  const list = h("ul", { class: "conversations", "aria-label": t("Conversations") });
  const status = h("p", { class: "empty", role: "status" });
  const main = h("main", { class: "page" }, notice, list, status);
  root.append(header, main);

  function draw() {
    notice.replaceChildren(...(needsVerification(store.me) ? [verifyNotice(store)] : []));
    const rows = [...pendingRows(store), ...store.sortedConversations().map((c) => row(store, c))];
    list.replaceChildren(...rows);
    list.hidden = rows.length === 0;
    status.replaceChildren();
    if (rows.length === 0 && store.listLoaded) {
      status.append(
        h("span", { text: t("No conversations yet.") }),
        " ",
        h("a", { class: "button primary", href: "#/find", text: t("Find a company") }),
      );
    }
  }

  const off = [store.on("conversations", draw), store.on("outbox", draw), store.on("me", draw)];
  draw();
  store.loadConversations().catch((error) => {
    if (!store.listLoaded) status.textContent = messageFor(error);
  });
  return () => off.forEach((f) => f());
}
