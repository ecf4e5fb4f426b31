// The open conversation: header with its actions, the whole history (older pages load when
// scrolling up), typing, read state, the reply box, and the customer panel beside it.
import { get } from "../messenger/api.js";
import { h, placeChildren } from "../messenger/dom.js";
import { t } from "../messenger/i18n.js";
import { dayLabel, fullDate, sameDay } from "../messenger/time.js";
import { messageFor } from "../errors.js";
import { customerName, statusName } from "../format.js";
import { icon } from "../icons.js";
import { conversationActions } from "./actions.js";
import { callbackStrip } from "./callbacks.js";
import { customerPanel } from "./customer.js";
import { holdBadge } from "./hold.js";
import { topicName } from "./topic.js";
import { messageNode, signature } from "./message.js";
import { replyBox } from "./reply.js";
import { fill } from "../fill.js";

const NEAR_BOTTOM = 120;
const RUN_GAP = 5 * 60000;

export function conversationPane(store, { linkFor }) {
  let id = null;
  let conversation = null;
  // an email conversation's addresses (GET /conversations/{id}/email), by conversation id
  const mailOf = new Map();
  let hitSeq = null;
  const nodes = new Map();

  const notice = h("p", { class: "pane-error", role: "alert" });
  notice.hidden = true;
  const showError = (text) => {
    notice.textContent = text || "";
    notice.hidden = !text;
    if (text)
      setTimeout(() => {
        if (notice.textContent === text) notice.hidden = true;
      }, 8000);
  };

  const back = h(
    "a",
    { class: "back-link", href: "#/" },
    icon("back"),
    h("span", { text: t("Back to the list") }),
  );
  const heading = h("h2", { class: "conv-title", id: "conversation-title", tabindex: "-1" });
  const subtitle = h("p", { class: "conv-subtitle" });
  const actions = conversationActions(store, { onError: showError });
  const panelToggle = h(
    "button",
    {
      type: "button",
      class: "icon-btn panel-toggle",
      "aria-expanded": "false",
      "aria-controls": "customer-panel",
      "aria-label": t("Customer details"),
      title: t("Customer details"),
    },
    icon("panel"),
  );
  const header = h(
    "header",
    { class: "conv-head" },
    h(
      "div",
      { class: "conv-head-row" },
      back,
      h("div", { class: "conv-heading" }, heading, subtitle),
      panelToggle,
    ),
    actions.node,
    notice,
  );

  const older = h("button", {
    type: "button",
    class: "link older",
    text: t("Show older messages"),
  });
  older.hidden = true;
  const newer = h("button", {
    type: "button",
    class: "link newer",
    text: t("Show newer messages"),
  });
  newer.hidden = true;
  const list = h("ol", { class: "messages", "aria-label": t("Messages") });
  const scroller = h(
    "div",
    { class: "thread", tabindex: "0", "aria-label": t("Conversation history") },
    older,
    list,
    newer,
  );
  const jump = h("button", { type: "button", class: "jump", text: t("New messages ↓") });
  jump.hidden = true;
  const typing = h("p", { class: "typing", "aria-live": "polite" });
  const reply = replyBox(store);
  // a restricted conversation (its customer deleted their account; kept under legal hold)
  const readOnly = h(
    "div",
    { class: "read-only-note", role: "note" },
    icon("shield"),
    h(
      "p",
      {},
      h("strong", { text: t("Read-only: the customer has deleted their account.") }),
      " ",
      t(
        "This conversation is kept only because of its legal hold. Only admins can open it, and nothing can be changed or sent. Lifting the hold deletes it.",
      ),
    ),
  );
  readOnly.hidden = true;
  const customer = customerPanel(store, { linkFor });
  const callbacks = callbackStrip(store);
  panelToggle.addEventListener("click", () => {
    const open = panelToggle.getAttribute("aria-expanded") !== "true";
    panelToggle.setAttribute("aria-expanded", String(open));
    customer.node.classList.toggle("open", open);
  });

  const empty = h(
    "div",
    { class: "conv-empty" },
    icon("inbox", "big"),
    h("p", { class: "conv-empty-title", text: t("Choose a conversation") }),
    h("p", { text: t("j and k move through the list, ? shows all keyboard shortcuts.") }),
  );
  const body = h(
    "section",
    { class: "conv-body", "aria-labelledby": "conversation-title" },
    header,
    callbacks.node,
    scroller,
    jump,
    typing,
    readOnly,
    reply.node,
  );
  const node = h("div", { class: "conv-pane is-empty" }, empty, body, customer.node);

  function nearBottom() {
    return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < NEAR_BOTTOM;
  }

  function toBottom() {
    scroller.scrollTo({ top: scroller.scrollHeight, behavior: "auto" });
    jump.hidden = true;
  }

  function entries() {
    const thread = store.thread(id);
    const shown = new Set(thread.items.map((m) => m.client_id).filter(Boolean));
    const waiting = (store.pending.get(id) || []).filter((p) => !shown.has(p.client_id));
    return thread.hasNewer ? thread.items : [...thread.items, ...waiting];
  }

  // a run of messages by one author within a few minutes names the author once
  let lastAuthor = "";
  function startsRun(previous, message, author) {
    const same =
      previous &&
      previous.kind === message.kind &&
      lastAuthor === author &&
      previous.created_at &&
      message.created_at &&
      new Date(message.created_at) - new Date(previous.created_at) < RUN_GAP &&
      sameDay(previous.created_at, message.created_at);
    lastAuthor = author;
    return !same;
  }

  function stateOf(message, newestReply) {
    if (message !== newestReply) return null;
    if (message.pending) return "sending";
    return (conversation?.read?.customer || 0) >= message.seq ? "seen" : "sent";
  }

  function drawMessages({ keepFromBottom = false, follow = false, toHit = false } = {}) {
    if (!id) return;
    const wasNear = nearBottom();
    const fromBottom = scroller.scrollHeight - scroller.scrollTop;
    const all = entries();
    const newestReply = all.findLast((m) => m.kind === "agent");
    const agentNames = store.agents.map((a) => a.name);
    const name = customerName(conversation);
    const wanted = [];
    const used = new Set();
    let previous = null;
    lastAuthor = "";
    for (const message of all) {
      if (message.created_at && (!previous || !sameDay(previous.created_at, message.created_at))) {
        const key = `d${new Date(message.created_at).toDateString()}`;
        if (!nodes.has(key)) {
          nodes.set(key, {
            sig: key,
            node: h("li", { class: "day" }, h("span", { text: dayLabel(message.created_at) })),
          });
        }
        wanted.push(nodes.get(key).node);
        used.add(key);
      }
      const key = message.pending ? `c${message.client_id}` : `m${message.id}`;
      const state = stateOf(message, newestReply);
      const hit = hitSeq !== null && message.seq === hitSeq;
      const author = message.pending ? store.me.name : store.authorName(message);
      const first = startsRun(previous, message, author);
      const sig = `${signature(message, state, hit)}|${name}|${author}|${first}`;
      const known = nodes.get(key);
      if (!known || known.sig !== sig) {
        nodes.set(key, {
          sig,
          node: messageNode(message, { customer: name, author, agentNames, state, hit, first }),
        });
      }
      wanted.push(nodes.get(key).node);
      used.add(key);
      previous = message;
    }
    for (const key of [...nodes.keys()]) if (!used.has(key)) nodes.delete(key);
    placeChildren(list, wanted);
    const thread = store.thread(id);
    older.hidden = !thread.hasOlder;
    newer.hidden = !thread.hasNewer;
    if (toHit) {
      const target = list.querySelector(".msg-hit");
      if (target) {
        target.scrollIntoView({ block: "center" });
        stuck = false;
        return;
      }
    }
    if (keepFromBottom) scroller.scrollTop = scroller.scrollHeight - fromBottom;
    else if (follow || wasNear) toBottom();
    else jump.hidden = false;
  }

  function drawHeader() {
    if (!conversation) return;
    const name = customerName(conversation);
    heading.textContent = name;
    const bits = [];
    if (conversation.subject) bits.push(conversation.subject);
    if (conversation.status === "snoozed" && conversation.snoozed_until) {
      bits.push(t("until {time}", { time: fullDate(conversation.snoozed_until) }));
    }
    bits.push(t("Owner: {name}", { name: store.ownerName(conversation.owner) }));
    const mail = conversation.channel === "email" ? mailOf.get(conversation.id) : null;
    const hold = store.holds.get(conversation.id);
    const restricted = Boolean(conversation.customer?.erased);
    fill(
      subtitle,
      h("span", {
        class: `status-pill status-${conversation.status}`,
        text: statusName(conversation.status),
      }),
      " ",
      hold || restricted ? [holdBadge(hold || {}), " "] : null,
      conversation.topic_id
        ? [
            h("span", {
              class: "topic-chip",
              title: t("Topic"),
              text: topicName(store, conversation.topic_id),
            }),
            " ",
          ]
        : null,
      conversation.channel === "email"
        ? h(
            "span",
            { class: "channel-chip", title: t("Answers go out by email") },
            icon("mail"),
            h("span", { text: mail ? mail.address : t("By email") }),
          )
        : null,
      conversation.channel === "email" ? " " : null,
      bits.join(" · "),
    );
    if (conversation.channel === "email" && !mailOf.has(conversation.id)) {
      const shown = conversation.id;
      mailOf.set(shown, null);
      get(`/conversations/${shown}/email`)
        .then((found) => {
          mailOf.set(shown, found);
          if (conversation?.id === shown) drawHeader();
        })
        .catch(() => mailOf.delete(shown));
    }
    actions.set(conversation);
    reply.setConversation(restricted ? null : conversation);
    reply.node.hidden = restricted;
    readOnly.hidden = !restricted;
  }

  // deleted meanwhile (its customer deleted their account, or a lifted hold)
  function showGone() {
    conversation = null;
    heading.textContent = t("Deleted conversation");
    fill(subtitle);
    actions.node.hidden = true;
    reply.setConversation(null);
    customer.show(null);
    nodes.clear();
    fill(
      list,
      h("li", { class: "empty", role: "alert", text: t("This conversation was deleted.") }),
    );
  }

  function drawTyping() {
    const who = id ? store.typing.get(id) : null;
    if (!who) {
      typing.textContent = "";
      return;
    }
    const name = who.who === "customer" ? customerName(conversation) : who.name;
    typing.textContent = name ? t("{name} is typing…", { name }) : t("Someone is typing…");
  }

  async function loadOlder() {
    older.disabled = true;
    try {
      await store.loadOlder(id);
    } catch (error) {
      showError(messageFor(error));
    } finally {
      older.disabled = false;
    }
  }
  older.addEventListener("click", loadOlder);
  newer.addEventListener("click", async () => {
    newer.disabled = true;
    try {
      await store.loadNewer(id);
    } catch (error) {
      showError(messageFor(error));
    } finally {
      newer.disabled = false;
    }
  });
  const watcher = new IntersectionObserver(
    (seen) => {
      if (seen.some((e) => e.isIntersecting) && !older.hidden && !older.disabled) loadOlder();
    },
    { root: scroller, rootMargin: "200px 0px 0px 0px" },
  );
  watcher.observe(older);
  // the thread stays at its newest message while the reply box or the window changes size
  let stuck = true;
  scroller.addEventListener("scroll", () => {
    stuck = nearBottom();
    if (stuck) jump.hidden = true;
  });
  const resized = new ResizeObserver(() => {
    if (stuck && id) scroller.scrollTop = scroller.scrollHeight;
  });
  resized.observe(scroller);
  jump.addEventListener("click", toBottom);

  const offs = [
    store.on("thread", (detail) => {
      if (detail.id !== id) return;
      if (detail.older !== undefined) drawMessages({ keepFromBottom: true });
      else if (detail.newer !== undefined) drawMessages({ keepFromBottom: true });
      else drawMessages({ follow: Boolean(detail.sending) });
    }),
    store.on("conversation", (detail) => {
      if (detail.id !== id) return;
      conversation = store.conversations.get(id) || conversation;
      drawHeader();
      drawMessages();
    }),
    store.on("typing", (detail) => {
      if (detail.id === id) drawTyping();
    }),
    store.on("staff", () => drawHeader()),
    store.on("holds", () => drawHeader()),
    store.on("topics", () => drawHeader()),
    store.on("gone", (detail) => {
      if (detail.id === id) showGone();
    }),
  ];
  const onVisible = () => {
    if (document.visibilityState === "visible" && id) store.markRead(id);
  };
  document.addEventListener("visibilitychange", onVisible);

  async function open(nextId, { at = null, back: backTo = "#/" } = {}) {
    back.href = backTo;
    const seq = at ? Number(at) : null;
    if (nextId === id && seq === hitSeq) return;
    const same = nextId === id;
    id = nextId;
    hitSeq = seq;
    if (!same) callbacks.show(id);
    store.viewing = id;
    node.classList.toggle("is-empty", !id);
    if (!id) {
      conversation = null;
      reply.setConversation(null);
      customer.show(null);
      return;
    }
    actions.node.hidden = false;
    if (!same) {
      nodes.clear();
      fill(list);
      typing.textContent = "";
      showError("");
    }
    conversation = store.conversations.get(id) || null;
    if (conversation) drawHeader();
    else {
      heading.textContent = t("Loading…");
      subtitle.textContent = "";
    }
    try {
      const fetching = !same || !conversation ? store.fetchConversation(id) : null;
      // the messages load at the same time, unless a search hit needs the conversation's
      // last_seq first to pick the page around it
      const loading = !seq || conversation ? store.loadThread(id, seq) : null;
      loading?.catch(() => {}); // a failure is reported below, once
      if (fetching) conversation = await fetching;
      if (id !== nextId) return;
      drawHeader();
      customer.show(conversation);
      const thread = store.thread(id);
      if (thread.loaded && !seq) drawMessages({ follow: true });
      await (loading || store.loadThread(id, seq));
      if (id !== nextId) return;
      drawMessages({ follow: !seq, toHit: Boolean(seq) });
      drawTyping();
      store.markRead(id);
    } catch (error) {
      if (id !== nextId) return;
      fill(list, h("li", { class: "empty", role: "alert", text: messageFor(error) }));
    }
  }

  return {
    node,
    open,
    focusReply: (mode) => reply.focus(mode),
    focusHeading: () => heading.focus(),
    assignToMe: () => actions.assignToMe(),
    resolve: () => actions.resolve(),
    destroy() {
      watcher.disconnect();
      resized.disconnect();
      document.removeEventListener("visibilitychange", onVisible);
      offs.forEach((off) => off());
      customer.destroy();
      callbacks.destroy();
      store.viewing = null;
    },
  };
}
