// One conversation: the thread (older pages load when scrolling up), live replies, typing,
// delivery states, and the composer. #/new/<slug> is a conversation not started yet.
import { post, upload } from "../api.js";
import { isWidget } from "../config.js";
import { avatar, h, icon, placeChildren, reducedMotion } from "../dom.js";
import { messageFor } from "../errors.js";
import { t } from "../i18n.js";
import { newClientId } from "../outbox.js";
import { startFields } from "../store.js";
import { go } from "../router.js";
import { becomeVisitor } from "../session.js";
import { dayLabel, sameDay } from "../time.js";
import { bar } from "./bar.js";
import { caseCard } from "./complaint.js";
import { ratingCard } from "./rating.js";
import { callbackPanel } from "./callback.js";
import { composer } from "./composer.js";
import { promiseNow, promiseState } from "./hours.js";
import { companyIntro, keepPrompt, widgetActions } from "./widget.js";
import { messageNode, signature } from "./message.js";
import { statusText } from "./status.js";
import { topicChooser } from "./topics.js";
import { needsVerification } from "./verify.js";

const NEAR_BOTTOM = 120;
const RUN_GAP = 5 * 60000;

export function chatView(root, { store, route }) {
  const draftSlug = route.name === "new" ? route.arg : null;
  const id = draftSlug ? null : Number(route.arg);
  let conversation = id ? store.conversations.get(id) || null : null;
  let company = null;
  const slug = () => draftSlug || conversation?.company?.slug || null;

  const status = h("span", { class: "status-text" });
  const typing = h("span", { class: "typing-text" });
  const call = h("span", { class: "bar-call" });
  const { header, heading } = bar({
    title: conversation?.company?.name || t("Conversation"),
    subtitle: h("span", {}, status, typing),
    back: isWidget ? null : "#/",
    lead: h("span", { class: "bar-avatar" }),
    actions: [call, ...(isWidget ? widgetActions() : [])],
  });
  const older = h("button", { type: "button", class: "older link", text: t("Show older messages") });
  older.hidden = true;
  const intro = h("div", { class: "intro" });
  const list = h("ol", { class: "messages", "aria-label": t("Messages") });
  const jump = h(
    "button",
    { type: "button", class: "jump", title: t("Jump to the newest message") },
    icon("down"),
    t("New messages"),
  );
  jump.hidden = true;
  const scroller = h(
    "div",
    { class: "thread", tabindex: "0", "aria-label": t("Conversation") },
    intro,
    older,
    list,
  );
  const keep = h("div", { class: "keep-slot" });
  // a new conversation: the company's topics to choose from (filled once they are loaded)
  const topicSlot = h("div", { class: "topic-slot" });
  let topics = null;
  const complaint = id ? caseCard(store, id) : null;
  const rating = id ? ratingCard(store, id) : null;
  const promise = h("div", { class: "promise-slot", "aria-live": "polite" });
  const writer = composer({
    onSend: (text) => send(text),
    onUpload: (file, caption, progress) => sendFile(file, caption, progress),
    onTyping: () => {
      if (id) store.live.typing(id);
    },
  });
  // the callback card (or the button to ask for one) once the conversation exists
  const callback = id ? callbackPanel(id, store) : null;
  const main = h(
    "main",
    { class: "chat" },
    complaint?.node,
    scroller,
    jump,
    promise,
    callback?.node,
    rating?.node,
    keep,
    topicSlot,
    writer.node,
  );
  root.append(header, main);
  store.viewing = id;

  // -- drawing ---------------------------------------------------------------------------

  const nodes = new Map();

  function entries() {
    const thread = id ? store.thread(id) : null;
    const sent = thread ? thread.items : [];
    const queued = store.outbox
      ? draftSlug
        ? store.outbox.forCompany(draftSlug)
        : store.outbox.forConversation(id)
      : [];
    const shown = new Set(sent.map((m) => m.client_id).filter(Boolean));
    const pending = queued
      .filter((item) => !shown.has(item.client_id))
      .map((item) => ({
        kind: "customer",
        body: item.body,
        client_id: item.client_id,
        created_at: item.created_at,
        pending: true,
      }));
    return [...sent, ...pending];
  }

  function nearBottom() {
    return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < NEAR_BOTTOM;
  }

  function toBottom(smooth = false) {
    const behavior = smooth && !reducedMotion() ? "smooth" : "auto";
    scroller.scrollTo({ top: scroller.scrollHeight, behavior });
    jump.hidden = true;
  }

  // a run of messages by one author within a few minutes shows the name once
  function startsRun(previous, message) {
    if (!previous || previous.kind !== message.kind) return true;
    if ((previous.author?.name || "") !== (message.author?.name || "")) return true;
    if (!previous.created_at || !message.created_at) return false;
    return new Date(message.created_at) - new Date(previous.created_at) > RUN_GAP;
  }

  function drawMessages({ keepFromBottom = false, follow = false } = {}) {
    const wasNear = nearBottom();
    const fromBottom = scroller.scrollHeight - scroller.scrollTop;
    const wanted = [];
    let previous = null;
    const used = new Set();
    const all = entries();
    const newestOwn = all.findLast((m) => m.kind === "customer");
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
      const key = message.client_id ? `c${message.client_id}` : `m${message.id}`;
      const first = startsRun(previous, message);
      const newest = message === newestOwn;
      const sig = `${signature(message, conversation)}|${first}|${newest}`;
      const known = nodes.get(key);
      if (!known || known.sig !== sig) {
        nodes.set(key, { sig, node: messageNode(message, conversation, { first, newestOwn: newest }) });
      }
      wanted.push(nodes.get(key).node);
      used.add(key);
      previous = message;
    }
    for (const key of [...nodes.keys()]) if (!used.has(key)) nodes.delete(key);
    placeChildren(list, wanted);
    const thread = id ? store.thread(id) : null;
    older.hidden = !(thread && thread.hasOlder);
    if (keepFromBottom) scroller.scrollTop = scroller.scrollHeight - fromBottom;
    else if (follow || wasNear) toBottom();
    else jump.hidden = false;
    intro.hidden = wanted.length > 0 && !isWidget;
  }

  function drawHeader() {
    const name = conversation?.company?.name || company?.name || t("Conversation");
    heading.textContent = name;
    header.querySelector(".bar-avatar").replaceChildren(avatar(name));
    status.textContent = conversation ? statusText(conversation.status) : t("New conversation");
    const who = id ? store.typing.get(id) : null;
    typing.textContent = who
      ? who.name
        ? t("{name} is typing…", { name: who.name })
        : t("Typing…")
      : "";
    status.hidden = Boolean(who);
    if (company?.phone && !call.firstChild) {
      call.append(
        h(
          "a",
          {
            class: "icon-btn",
            href: `tel:${company.phone.replace(/[^\d+]/g, "")}`,
            "aria-label": t("Call {company}", { company: company.name }),
            title: t("Call {company}", { company: company.name }),
          },
          icon("phone"),
        ),
      );
    }
  }

  function drawPromise() {
    const line = conversation ? promiseState(conversation) : company ? promiseNow(company) : null;
    promise.replaceChildren(...(line ? [line] : []));
  }

  function drawComposerState() {
    if (draftSlug && needsVerification(store.me)) {
      writer.disable(t("Confirm your email address to start a conversation. We sent you a link."));
    } else {
      writer.disable(null);
    }
    keep.replaceChildren(...(isWidget && store.me?.anonymous && conversation ? [keepPrompt()] : []));
  }

  // -- sending -----------------------------------------------------------------------------

  async function ensureSignedIn() {
    if (store.me) return true;
    if (!isWidget) {
      go("/signin");
      return false;
    }
    const me = await becomeVisitor();
    store.signedIn(me);
    return true;
  }

  async function send(text) {
    try {
      if (!(await ensureSignedIn())) return;
    } catch (error) {
      writer.showError(messageFor(error));
      writer.restore(text);
      return;
    }
    if (id) {
      store.send({ conversation_id: id, body: text });
    } else {
      const first = store.outbox.forCompany(draftSlug).find((item) => !item.draft);
      if (!first && !topicChosen()) {
        writer.restore(text);
        return;
      }
      store.send({
        company: draftSlug,
        company_name: company?.name || draftSlug,
        body: text,
        ...(first ? { draft: first.client_id } : { topic_id: topics?.value() ?? null }),
      });
    }
    drawMessages({ follow: true });
  }

  // a required topic must be chosen before the first message goes out
  function topicChosen() {
    if (!topics || !topics.required || topics.chosen()) return true;
    topics.showError(t("Please choose what your message is about."));
    return false;
  }

  async function loadTopics() {
    try {
      const found = await store.topics(draftSlug);
      if (!found.items.length) return;
      topics = { ...topicChooser(found), required: found.required };
      topicSlot.replaceChildren(topics.node);
    } catch {
      // without the list the server still says when a topic is required
    }
  }

  function sendFile(file, caption, progress) {
    let current = null;
    let aborted = false;
    const done = (async () => {
      if (!(await ensureSignedIn())) throw new DOMException("aborted", "AbortError");
      let target = id;
      if (!target) {
        if (!caption) throw new Error("caption");
        if (!topicChosen()) throw new DOMException("aborted", "AbortError");
        const started = await post(
          "/conversations",
          startFields({
            company: draftSlug,
            body: caption,
            client_id: newClientId(),
            topic_id: topics?.value() ?? null,
          }),
        );
        store.upsertConversation(started.conversation);
        store.addMessage(started.message);
        target = started.conversation.id;
        caption = "";
      }
      if (aborted) throw new DOMException("aborted", "AbortError");
      const form = new FormData();
      form.append("file", file, file.name);
      form.append("body", caption);
      form.append("client_id", newClientId());
      current = upload(`/conversations/${target}/attachments`, form, progress);
      const message = await current.done;
      store.addMessage(message);
      if (!id) go(`/chat/${target}`, { replace: true });
      else drawMessages({ follow: true });
      return message;
    })();
    return {
      done: done.catch((error) => {
        if (error instanceof Error && error.message === "caption") {
          writer.showError(t("Please write a few words first, then add the file."));
          throw new DOMException("aborted", "AbortError");
        }
        throw error;
      }),
      abort: () => {
        aborted = true;
        if (current) current.abort();
      },
    };
  }

  // -- loading and live updates ------------------------------------------------------------

  const offs = [
    store.on("thread", (detail) => {
      if (detail.id !== id) return;
      if (detail.older !== undefined) drawMessages({ keepFromBottom: true });
      else drawMessages({ follow: detail.reset });
      if (detail.message && document.visibilityState === "visible") store.markRead(id);
    }),
    store.on("outbox", () => drawMessages()),
    store.on("typing", (detail) => {
      if (detail.id === id) drawHeader();
    }),
    store.on("conversations", () => {
      if (id && store.conversations.has(id)) conversation = store.conversations.get(id);
      drawHeader();
      drawComposerState();
      drawPromise();
    }),
    store.on("me", drawComposerState),
    store.on("started", ({ item, conversation: started }) => {
      if (draftSlug && item.company === draftSlug) go(`/chat/${started.id}`, { replace: true });
    }),
    store.on("failed", ({ item, error }) => {
      if (item.conversation_id === id || (draftSlug && item.company === draftSlug)) {
        writer.restore(item.body);
        const code = error?.code;
        if (draftSlug && (code === "conversation_topic_required" || code === "invalid_conversation_topic")) {
          // the company's list changed meanwhile: offer the current one
          loadTopics().then(() => topics?.showError(messageFor(error)));
        }
        writer.showError(t("Not sent: {reason}", { reason: messageFor(error) }));
      }
    }),
  ];

  const onVisible = () => {
    if (document.visibilityState === "visible" && id) store.markRead(id);
  };
  document.addEventListener("visibilitychange", onVisible);

  async function loadOlder() {
    if (!id) return;
    older.disabled = true;
    try {
      await store.loadOlder(id);
    } catch (error) {
      writer.showError(messageFor(error));
    } finally {
      older.disabled = false;
    }
  }
  older.addEventListener("click", loadOlder);
  const watcher = new IntersectionObserver(
    (seen) => {
      if (seen.some((e) => e.isIntersecting) && !older.hidden) loadOlder();
    },
    { root: scroller, rootMargin: "200px 0px 0px 0px" },
  );
  watcher.observe(older);
  scroller.addEventListener("scroll", () => {
    if (nearBottom()) jump.hidden = true;
  });
  jump.addEventListener("click", () => toBottom(true));

  async function start() {
    if (draftSlug) loadTopics();
    drawHeader();
    drawComposerState();
    drawPromise();
    drawMessages({ follow: true });
    try {
      if (id) {
        if (!conversation) conversation = await store.fetchConversation(id);
        const thread = store.thread(id);
        if (thread.loaded) drawMessages({ follow: true });
        await store.loadLatest(id);
        store.markRead(id);
      }
      const wanted = slug();
      if (wanted) {
        company = await store.company(wanted);
        drawHeader();
        drawPromise();
        if (isWidget || !id) intro.replaceChildren(companyIntro(company));
        drawMessages();
      }
    } catch (error) {
      if (!id || !store.thread(id).loaded) {
        list.replaceChildren(h("li", { class: "empty", role: "alert", text: messageFor(error) }));
      }
    }
  }
  start();

  return () => {
    store.viewing = null;
    watcher.disconnect();
    document.removeEventListener("visibilitychange", onVisible);
    offs.forEach((off) => off());
    complaint?.destroy();
    rating?.destroy();
    if (callback) callback.close();
  };
}
