// The client's state: conversations, the loaded part of each thread, typing, connection.
// Views read from it and listen to its events; the socket and the outbox feed it.
import { forgetAttachments, get, post } from "./api.js";
import { config, isWidget } from "./config.js";
import { announce } from "./dom.js";
import { lang, t } from "./i18n.js";
import { newClientId, Outbox } from "./outbox.js";
import { Live } from "./socket.js";

const PAGE = 50;
// before_seq for the newest page (one stable URL, so it caches offline); seq is a 32-bit integer
const NEWEST = 2 ** 31 - 1;
const TYPING_SHOWN = 6000;

export function fromCompany(message) {
  return message.kind !== "customer";
}

export class Store extends EventTarget {
  constructor() {
    super();
    this.me = null;
    this.conversations = new Map();
    this.listLoaded = false;
    this.threads = new Map();
    this.typing = new Map();
    this.companies = new Map();
    this.viewing = null; // the conversation on screen
    this.online = navigator.onLine;
    this.live = new Live();
    this.outbox = null;
    this.live.addEventListener("event", (e) => this.apply(e.detail));
    this.live.addEventListener("open", (e) => this.connected(e.detail.fresh));
    this.live.addEventListener("resync", () => this.reload());
    this.live.addEventListener("state", () => this.emit("connection"));
    this.live.addEventListener("unauthenticated", () => this.emit("unauthenticated"));
    window.addEventListener("online", () => {
      this.online = true;
      this.emit("connection");
      if (this.outbox) this.outbox.retryNow();
    });
    window.addEventListener("offline", () => {
      this.online = false;
      this.emit("connection");
    });
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  on(type, handler) {
    const listener = (event) => handler(event.detail);
    this.addEventListener(type, listener);
    return () => this.removeEventListener(type, listener);
  }

  // -- who ------------------------------------------------------------------------------------

  signedIn(me) {
    this.me = me;
    const key = `eyelevel.outbox.${isWidget ? `w.${config.company}.` : ""}${me.id}`;
    if (!this.outbox || this.outbox.key !== key) {
      this.outbox = new Outbox(key, (item) => this.deliver(item));
      this.outbox.addEventListener("change", () => this.emit("outbox"));
      this.outbox.addEventListener("failed", (e) => this.emit("failed", e.detail));
      this.outbox.addEventListener("unauthenticated", () => this.emit("unauthenticated"));
    }
    // a new identity (a visitor who kept the conversation) needs a socket with its token
    this.live.stop();
    this.live.start();
    this.outbox.retryNow();
    this.emit("me");
  }

  // ``expired``: the session ended by itself; unsent messages wait for the same person
  signedOut({ expired = false } = {}) {
    this.live.stop();
    if (this.outbox && !expired) this.outbox.clear();
    this.outbox = null;
    this.me = null;
    this.conversations.clear();
    this.threads.clear();
    this.listLoaded = false;
    forgetAttachments();
    this.emit("me");
  }

  // -- conversations ------------------------------------------------------------------------

  async loadConversations() {
    const page = await get(`/conversations?limit=${PAGE * 2}`);
    this.conversations = new Map(page.items.map((c) => [c.id, c]));
    this.listLoaded = true;
    this.emit("conversations");
  }

  mine(conversation) {
    return !isWidget || !conversation.company || conversation.company.slug === config.company;
  }

  sortedConversations() {
    const key = (c) => c.last_message_at || c.updated_at || c.created_at;
    return [...this.conversations.values()]
      .filter((c) => this.mine(c))
      .sort((a, b) => (key(a) < key(b) ? 1 : key(a) > key(b) ? -1 : b.id - a.id));
  }

  latestWith(slug) {
    return this.sortedConversations().find((c) => c.company && c.company.slug === slug) || null;
  }

  upsertConversation(conversation) {
    const known = this.conversations.get(conversation.id);
    this.conversations.set(conversation.id, { ...known, ...conversation });
    this.emit("conversations");
  }

  async fetchConversation(id) {
    const conversation = await get(`/conversations/${id}`);
    this.upsertConversation(conversation);
    return conversation;
  }

  async company(slug) {
    if (!this.companies.has(slug)) {
      const pending = get(`/companies/${encodeURIComponent(slug)}`);
      pending.catch(() => this.companies.delete(slug));
      this.companies.set(slug, pending);
    }
    return this.companies.get(slug);
  }

  // the company's active conversation topics and whether choosing one is required
  async topics(slug) {
    const found = await get(`/companies/${encodeURIComponent(slug)}/conversation-topics`);
    return { required: found.required, items: found.items.filter((topic) => topic.active) };
  }

  // -- threads ------------------------------------------------------------------------------

  thread(id) {
    if (!this.threads.has(id)) {
      this.threads.set(id, { items: [], loaded: false, hasOlder: false, loading: false });
    }
    return this.threads.get(id);
  }

  async loadLatest(id) {
    const thread = this.thread(id);
    const page = await get(`/conversations/${id}/messages?limit=${PAGE}&before_seq=${NEWEST}`);
    thread.items = [];
    this.merge(thread, page.items);
    thread.loaded = true;
    thread.hasOlder = page.items.length === PAGE;
    this.emit("thread", { id, reset: true });
  }

  async loadOlder(id) {
    const thread = this.thread(id);
    if (thread.loading || !thread.hasOlder || thread.items.length === 0) return 0;
    thread.loading = true;
    try {
      const first = thread.items[0].seq;
      const page = await get(`/conversations/${id}/messages?limit=${PAGE}&before_seq=${first}`);
      this.merge(thread, page.items);
      thread.hasOlder = page.items.length === PAGE;
      this.emit("thread", { id, older: page.items.length });
      return page.items.length;
    } finally {
      thread.loading = false;
    }
  }

  merge(thread, messages) {
    const byId = new Map(thread.items.map((m) => [m.id, m]));
    for (const m of messages) byId.set(m.id, m);
    thread.items = [...byId.values()].sort((a, b) => a.seq - b.seq);
  }

  addMessage(message) {
    const id = message.conversation_id;
    const conversation = this.conversations.get(id);
    if (conversation) {
      if (message.seq >= (conversation.last_seq || 0)) {
        conversation.last_seq = message.seq;
        conversation.last_message = message;
        conversation.last_message_at = message.created_at;
      }
      if (fromCompany(message) && message.seq > (conversation.read?.customer || 0)) {
        const seen = this.viewing === id && document.visibilityState === "visible";
        if (!seen) conversation.unread = (conversation.unread || 0) + 1;
      }
    }
    const thread = this.threads.get(id);
    const isNew = thread ? !thread.items.some((m) => m.id === message.id) : true;
    if (thread && thread.loaded) this.merge(thread, [message]);
    this.emit("thread", { id, message });
    this.emit("conversations");
    return isNew;
  }

  // -- live events --------------------------------------------------------------------------

  apply(frame) {
    const data = frame.data || {};
    switch (frame.type) {
      case "message.created": {
        if (!this.conversations.has(data.conversation_id)) {
          this.fetchConversation(data.conversation_id).catch(() => {});
        }
        const isNew = this.addMessage(data);
        if (fromCompany(data)) {
          this.typing.delete(data.conversation_id);
          this.emit("typing", { id: data.conversation_id });
          if (isNew) this.announceMessage(data);
          if (this.viewing === data.conversation_id) this.markRead(data.conversation_id);
        }
        return;
      }
      case "message.read": {
        const conversation = this.conversations.get(data.conversation_id);
        if (!conversation) return;
        const side = data.reader === "customer" ? "customer" : "company";
        conversation.read = { ...conversation.read };
        conversation.read[side] = Math.max(conversation.read[side] || 0, data.seq);
        if (side === "customer") conversation.unread = 0;
        this.emit("conversations");
        this.emit("thread", { id: data.conversation_id, read: side });
        return;
      }
      case "conversation.created":
        this.fetchConversation(data.id).catch(() => {});
        return;
      case "conversation.rated":
        // rated on another device
        this.emit("rating", data);
        return;
      case "complaint.changed":
        // the company opened or decided a complaint case: an open chat reads it again
        this.emit("complaint", data);
        return;
      case "callback.booked":
      case "callback.changed":
        this.emit("callback", data);
        return;
      case "customer.shared_fields_changed":
      case "customer.contact_preferences_changed":
        // changed on another device: an open privacy or contact card reads itself again
        this.emit("privacy", data);
        return;
      case "conversation.sla_changed": {
        const conversation = this.conversations.get(data.conversation_id);
        if (conversation) {
          conversation.sla = data.sla;
          this.emit("conversations");
        }
        return;
      }
      case "conversation.status_changed": {
        const conversation = this.conversations.get(data.conversation_id);
        if (conversation) {
          conversation.status = data.status;
          this.emit("conversations");
          this.emit("thread", { id: data.conversation_id, status: data.status });
        }
        return;
      }
      case "typing": {
        if (data.who !== "company") return;
        const until = Date.now() + TYPING_SHOWN;
        this.typing.set(data.conversation_id, { name: data.name || "", until });
        this.emit("typing", { id: data.conversation_id });
        setTimeout(() => {
          const shown = this.typing.get(data.conversation_id);
          if (shown && shown.until <= Date.now()) {
            this.typing.delete(data.conversation_id);
            this.emit("typing", { id: data.conversation_id });
          }
        }, TYPING_SHOWN + 50);
        return;
      }
      default:
    }
  }

  announceMessage(message) {
    const conversation = this.conversations.get(message.conversation_id);
    const who = message.author?.name || conversation?.company?.name || t("The company");
    const text = message.body || (message.attachments?.length ? t("sent a file") : "");
    announce(t("New message from {name}: {text}", { name: who, text: text.slice(0, 140) }));
  }

  connected(fresh) {
    if (fresh) this.reload();
    if (this.outbox) this.outbox.retryNow();
  }

  // after a gap the stream cannot fill: fetch what is on screen again
  async reload() {
    try {
      await this.loadConversations();
      for (const id of [...this.threads.keys()]) {
        if (id === this.viewing) await this.loadLatest(id);
        else this.threads.delete(id);
      }
    } catch {
      // offline: the socket retries, and with it this reload
    }
  }

  // -- reading ------------------------------------------------------------------------------

  markRead(id) {
    const conversation = this.conversations.get(id);
    if (!conversation || document.visibilityState !== "visible") return;
    const thread = this.threads.get(id);
    const last = thread && thread.items.length ? thread.items[thread.items.length - 1].seq : 0;
    const seq = Math.max(last, conversation.last_seq || 0);
    if (seq <= (conversation.read?.customer || 0)) {
      if (conversation.unread) {
        conversation.unread = 0;
        this.emit("conversations");
      }
      return;
    }
    conversation.read = { ...conversation.read, customer: seq };
    conversation.unread = 0;
    this.emit("conversations");
    if (!this.live.read(id, seq)) post(`/conversations/${id}/read`, { seq }).catch(() => {});
  }

  // -- sending ------------------------------------------------------------------------------

  send(item) {
    this.outbox.add({ client_id: newClientId(), ...item });
  }

  pendingFor(id) {
    return this.outbox ? this.outbox.forConversation(id) : [];
  }

  async deliver(item) {
    if (item.conversation_id) {
      const message = await post(`/conversations/${item.conversation_id}/messages`, {
        body: item.body,
        client_id: item.client_id,
      });
      this.addMessage(message);
      return { message };
    }
    if (item.draft) {
      // its first message was refused and the draft is gone: this one starts the conversation
      this.outbox.rebind(item.draft, null);
    }
    // a repeat after a lost answer returns the conversation started the first time (the
    // server dedupes starts by client_id too), never a second one
    const started = await post("/conversations", startFields(item));
    this.upsertConversation(started.conversation);
    this.addMessage(started.message);
    this.outbox.rebind(item.client_id, started.conversation.id);
    this.emit("started", { item, conversation: started.conversation });
    return started;
  }
}

// What starting a conversation sends: the company, the first message, the topic the customer
// chose, where they write from and their messenger's language (routing uses both).
export function startFields({ company, body, client_id: clientId, topic_id: topicId }) {
  return {
    company,
    body,
    client_id: clientId,
    ...(topicId ? { topic_id: topicId } : {}),
    channel: isWidget ? "widget" : "messenger",
    language: lang,
  };
}
