// The inbox's state: who I am and in which company, colleagues and teams with their presence,
// labels, canned responses, sidebar counts, the conversations seen so far and the loaded part
// of each thread. Views read from it and listen to its events; the socket feeds it.
import { ApiError, forgetAttachments, get, post, request } from "./messenger/api.js";
import { Live } from "./messenger/socket.js";
import { announce } from "./messenger/dom.js";
import { t } from "./messenger/i18n.js";
import { customerName, firstName } from "./format.js";

const PAGE = 50;
const NEWEST = 2 ** 31 - 1;
const TYPING_SHOWN = 6000;
const COUNTS_DELAY = 400;
const CHOSEN = "eyelevel.inbox.company";

export function newClientId() {
  const random = crypto.getRandomValues(new Uint32Array(2));
  return `i-${Date.now().toString(36)}-${random[0].toString(36)}${random[1].toString(36)}`;
}

export class Store extends EventTarget {
  constructor() {
    super();
    this.me = null;
    this.company = null; // {company_id, slug, name, role}
    this.agents = [];
    this.teams = [];
    this.labels = [];
    this.canned = [];
    this.topics = []; // conversation topics in the company's order (inactive ones included)
    this.topicRequired = false;
    this.rules = []; // routing rules in order
    this.routing = { topic_required: false, default_team_id: null };
    this.holds = new Map(); // conversation id -> legal hold (leads and admins know them)
    this.counts = null;
    this.countsStatus = "open";
    this.conversations = new Map();
    this.threads = new Map();
    this.typing = new Map();
    this.pending = new Map(); // conversation id -> messages being sent
    this.sent = new Set(); // client ids of what I sent: my own notes never notify me
    this.viewing = null;
    this.live = new Live();
    this.countsTimer = null;
    this.live.addEventListener("event", (e) => this.apply(e.detail));
    this.live.addEventListener("open", (e) => {
      if (e.detail.fresh) this.emit("resync");
    });
    this.live.addEventListener("resync", () => this.emit("resync"));
    this.live.addEventListener("state", () => this.emit("connection"));
    this.live.addEventListener("unauthenticated", () => this.emit("unauthenticated"));
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

  memberships() {
    return (this.me?.memberships || []).slice();
  }

  async signedIn(me) {
    this.me = me;
    const all = this.memberships();
    let chosen = null;
    try {
      chosen = localStorage.getItem(CHOSEN);
    } catch {
      chosen = null;
    }
    this.company = all.find((m) => m.slug === chosen) || all[0] || null;
    if (!this.company) return;
    await Promise.all([
      this.loadStaff(),
      this.loadLabels(),
      this.loadCanned(),
      this.loadTopics(),
      this.loadRules(),
      this.loadHolds(),
    ]);
    this.live.stop();
    this.live.start();
    this.emit("me");
  }

  switchCompany(slug) {
    try {
      localStorage.setItem(CHOSEN, slug);
    } catch {
      // the choice then lasts as long as the page
    }
    location.hash = "#/inbox/mine";
    location.reload();
  }

  signedOut() {
    this.live.stop();
    this.me = null;
    this.company = null;
    this.conversations.clear();
    this.threads.clear();
    forgetAttachments();
    this.emit("me");
  }

  get slug() {
    return this.company ? encodeURIComponent(this.company.slug) : "";
  }

  isAdmin() {
    return this.company?.role === "admin";
  }

  isLead() {
    return this.company?.role === "admin" || this.company?.role === "lead";
  }

  // -- colleagues, teams, labels, canned responses -------------------------------------------

  async loadStaff() {
    const staff = await get(`/companies/${this.slug}/staff`);
    this.agents = staff.agents;
    this.teams = staff.teams;
    this.emit("staff");
  }

  async loadLabels() {
    try {
      this.labels = await get(`/companies/${this.slug}/labels`);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      this.labels = []; // an older server without labels
    }
    this.emit("labels");
  }

  async loadCanned() {
    try {
      this.canned = await get(`/companies/${this.slug}/canned-responses`);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      this.canned = [];
    }
    this.emit("canned");
  }

  // -- routing: topics, rules; legal holds ---------------------------------------------------

  async loadTopics() {
    try {
      const found = await get(`/companies/${this.slug}/conversation-topics`);
      this.topics = found.items;
      this.topicRequired = found.required;
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      this.topics = [];
    }
    this.emit("topics");
  }

  async loadRules() {
    try {
      const found = await get(`/companies/${this.slug}/routing-rules`);
      this.rules = found.items;
      this.routing = found.settings;
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      this.rules = [];
    }
    this.emit("rules");
  }

  // the company's held conversations (leads and admins; nobody else may act on them)
  async loadHolds() {
    if (!this.isLead()) return;
    try {
      const holds = await get(`/companies/${this.slug}/legal-holds`);
      this.holds = new Map(holds.map((hold) => [hold.conversation_id, hold]));
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
    }
    this.emit("holds");
  }

  setHold(id, hold) {
    if (hold) this.holds.set(id, hold);
    else this.holds.delete(id);
    this.emit("holds");
    this.emit("conversation", { id, conversation: this.conversations.get(id) || null });
  }

  topic(id) {
    return this.topics.find((topic) => topic.id === id) || null;
  }

  rule(id) {
    return this.rules.find((rule) => rule.id === id) || null;
  }

  agent(id) {
    return this.agents.find((a) => a.id === id) || null;
  }

  team(id) {
    return this.teams.find((team) => team.id === id) || null;
  }

  label(id) {
    return this.labels.find((l) => l.id === id) || null;
  }

  // The colleague who wrote a message. Messages name agents by first name (as customers see
  // them); a first name that only one colleague has is that colleague.
  author(message) {
    const name = message?.author?.name || "";
    if (message?.author?.type !== "agent" || !name) return null;
    const found = this.agents.filter((a) => a.name === name || firstName(a.name) === name);
    return found.length === 1 ? found[0] : null;
  }

  authorName(message) {
    return this.author(message)?.name || message?.author?.name || "";
  }

  myTeams() {
    return this.teams.filter((team) => team.agent_ids.includes(this.me?.id));
  }

  myPresence() {
    return this.agent(this.me?.id)?.presence || "offline";
  }

  async setPresence(presence) {
    await request("PUT", "/me/presence", { presence });
    const mine = this.agent(this.me.id);
    if (mine) mine.presence = presence;
    this.emit("staff");
  }

  ownerName(owner) {
    if (!owner) return t("Nobody");
    if (owner.type === "agent") {
      const name = this.agent(owner.id)?.name || t("A former colleague");
      return owner.id === this.me?.id ? t("{name} (you)", { name }) : name;
    }
    return this.team(owner.id)?.name || t("A team");
  }

  // -- counts --------------------------------------------------------------------------------

  async loadCounts(status = this.countsStatus) {
    this.countsStatus = status;
    try {
      this.counts = await get(`/companies/${this.slug}/inbox?status=${encodeURIComponent(status)}`);
    } catch (error) {
      if (!(error instanceof ApiError)) return;
      this.counts = null;
    }
    this.emit("counts");
  }

  // many events in a burst cost one request
  refreshCounts() {
    clearTimeout(this.countsTimer);
    this.countsTimer = setTimeout(() => this.loadCounts(), COUNTS_DELAY);
  }

  // -- conversations -------------------------------------------------------------------------

  // an answer without the members' extras (customer, labels) keeps the ones known
  upsert(conversation) {
    const known = this.conversations.get(conversation.id);
    const merged = { ...known, ...conversation };
    for (const key of ["customer", "labels"]) {
      if (merged[key] === null || merged[key] === undefined) merged[key] = known?.[key] ?? null;
    }
    this.conversations.set(conversation.id, merged);
    return merged;
  }

  async fetchConversation(id) {
    const conversation = this.upsert(await get(`/conversations/${id}`));
    this.emit("conversation", { id, conversation });
    return conversation;
  }

  async list(params) {
    const query = new URLSearchParams({ company_id: String(this.company.company_id), ...params });
    const page = await get(`/conversations?${query}`);
    page.items = page.items.map((c) => this.upsert(c));
    return page;
  }

  // -- threads -------------------------------------------------------------------------------

  thread(id) {
    if (!this.threads.has(id)) {
      this.threads.set(id, { items: [], loaded: false, hasOlder: false, hasNewer: false });
    }
    return this.threads.get(id);
  }

  merge(thread, messages) {
    const byId = new Map(thread.items.map((m) => [m.id, m]));
    for (const m of messages) byId.set(m.id, m);
    thread.items = [...byId.values()].sort((a, b) => a.seq - b.seq);
  }

  // the newest page, or (for a search hit) the page around one message
  async loadThread(id, around = null) {
    const thread = this.thread(id);
    const last = this.conversations.get(id)?.last_seq || 0;
    let before = NEWEST;
    if (around && last - around > PAGE / 2) before = around + Math.floor(PAGE / 2);
    const page = await get(`/conversations/${id}/messages?limit=${PAGE}&before_seq=${before}`);
    thread.items = [];
    this.merge(thread, page.items);
    thread.loaded = true;
    thread.hasOlder = page.items.length === PAGE && page.items[0]?.seq > 1;
    thread.hasNewer = before !== NEWEST && page.items.length > 0;
    if (thread.hasNewer && page.items[page.items.length - 1].seq >= last) thread.hasNewer = false;
    this.emit("thread", { id, reset: true });
  }

  async loadOlder(id) {
    const thread = this.thread(id);
    if (!thread.hasOlder || thread.items.length === 0) return 0;
    const first = thread.items[0].seq;
    const page = await get(`/conversations/${id}/messages?limit=${PAGE}&before_seq=${first}`);
    this.merge(thread, page.items);
    thread.hasOlder = page.items.length === PAGE;
    this.emit("thread", { id, older: page.items.length });
    return page.items.length;
  }

  async loadNewer(id) {
    const thread = this.thread(id);
    if (!thread.hasNewer || thread.items.length === 0) return 0;
    const after = thread.items[thread.items.length - 1].seq;
    const page = await get(`/conversations/${id}/messages?limit=200&after_seq=${after}`);
    this.merge(thread, page.items);
    thread.hasNewer = page.items.length === 200;
    this.emit("thread", { id, newer: page.items.length });
    return page.items.length;
  }

  addMessage(message) {
    const id = message.conversation_id;
    const conversation = this.conversations.get(id);
    if (conversation && message.seq >= (conversation.last_seq || 0)) {
      conversation.last_seq = message.seq;
      conversation.last_message = message;
      conversation.last_message_at = message.created_at;
      if (message.kind === "customer") {
        if (!conversation.waiting_since) conversation.waiting_since = message.created_at;
        if (this.viewing !== id) conversation.unread = (conversation.unread || 0) + 1;
      } else if (message.kind === "agent") {
        conversation.waiting_since = null;
      }
    }
    const thread = this.threads.get(id);
    const isNew = thread ? !thread.items.some((m) => m.id === message.id) : true;
    if (thread && thread.loaded && !thread.hasNewer) this.merge(thread, [message]);
    const waiting = this.pending.get(id);
    if (waiting && message.client_id) {
      this.pending.set(
        id,
        waiting.filter((p) => p.client_id !== message.client_id),
      );
    }
    this.emit("thread", { id, message });
    return isNew;
  }

  // Sends a reply or a note. Shown at once as "sending"; a refusal puts the text back.
  async send(id, body, { note = false, mentions = [] } = {}) {
    const item = {
      client_id: newClientId(),
      conversation_id: id,
      body,
      kind: note ? "note" : "agent",
      author: { type: "agent", name: this.me.name },
      created_at: new Date().toISOString(),
      pending: true,
      attachments: [],
    };
    this.pending.set(id, [...(this.pending.get(id) || []), item]);
    this.sent.add(item.client_id);
    this.emit("thread", { id, sending: item });
    const payload = { body, client_id: item.client_id };
    if (note) payload.note = true;
    if (note && mentions.length) payload.mentions = mentions;
    try {
      const message = await post(`/conversations/${id}/messages`, payload);
      this.addMessage(message);
      return message;
    } catch (error) {
      this.pending.set(
        id,
        (this.pending.get(id) || []).filter((p) => p.client_id !== item.client_id),
      );
      this.emit("thread", { id, failed: item });
      throw error;
    }
  }

  // Moves my own read marker to the newest message on screen (unread counts are per agent:
  // a colleague having read it does not make it read for me).
  markRead(id) {
    const conversation = this.conversations.get(id);
    if (!conversation || document.visibilityState !== "visible") return;
    const thread = this.threads.get(id);
    const last = thread?.items.length ? thread.items[thread.items.length - 1].seq : 0;
    this.readUpTo ||= new Map();
    const unread = conversation.unread || 0;
    conversation.unread = 0;
    if (
      last &&
      (this.readUpTo.get(id) || 0) < last &&
      (unread || (conversation.read?.company || 0) < last)
    ) {
      this.readUpTo.set(id, last);
      conversation.read = {
        ...conversation.read,
        company: Math.max(conversation.read?.company || 0, last),
      };
      if (!this.live.read(id, last))
        post(`/conversations/${id}/read`, { seq: last }).catch(() => {});
    }
    if (unread) this.emit("conversation", { id, conversation });
  }

  // -- live events ---------------------------------------------------------------------------

  apply(frame) {
    const data = frame.data || {};
    switch (frame.type) {
      case "message.created":
        this.onMessage(data);
        break;
      case "conversation.created":
        this.fetchConversation(data.id).catch(() => {});
        this.refreshCounts();
        break;
      case "conversation.assigned":
        this.patch(data.conversation_id, { owner: data.owner });
        this.refreshCounts();
        break;
      case "conversation.status_changed":
        this.patch(data.conversation_id, {
          status: data.status,
          snoozed_until: data.snoozed_until ?? null,
        });
        this.refreshCounts();
        break;
      case "conversation.sla_changed":
        this.patch(data.conversation_id, { sla: data.sla });
        break;
      case "conversation.sla_warning":
      case "conversation.sla_breached":
        this.emit("sla", { type: frame.type, data });
        break;
      case "conversation.labels_changed":
        this.patch(data.conversation_id, { labels: data.label_ids });
        this.refreshCounts();
        break;
      case "message.read": {
        const conversation = this.conversations.get(data.conversation_id);
        if (!conversation) return;
        const side = data.reader === "customer" ? "customer" : "company";
        conversation.read = { ...conversation.read };
        conversation.read[side] = Math.max(conversation.read[side] || 0, data.seq);
        this.emit("conversation", { id: data.conversation_id, conversation });
        break;
      }
      case "callback.booked":
      case "callback.changed":
        this.emit("callback", data);
        break;
      case "callback.reminder":
        if (data.owner_agent_id === this.me?.id) this.emit("callback-alert", { kind: "reminder", data });
        break;
      case "callback.escalated":
        if (data.owner_agent_id === this.me?.id || this.isLead()) {
          this.emit("callback-alert", { kind: "escalated", data });
        }
        break;
      case "customer.shared_fields_changed":
        // the customer changed what we may see: read their conversations again (the event
        // names fields, never values)
        for (const c of this.conversations.values()) {
          if (c.customer_id === data.customer_id) this.fetchConversation(c.id).catch(() => {});
        }
        break;
      case "conversation.rated":
        this.emit("rating", { id: data.conversation_id, score: data.score });
        break;
      case "customer.erased":
        this.onErased(data);
        break;
      case "complaint.changed":
        this.emit("complaint", { id: data.conversation_id, state: data.state });
        break;
      case "complaint.approval_requested":
        this.emit("approval", data);
        break;
      case "complaint.promise_overdue":
        this.emit("overdue", data);
        break;
      case "customer.contact_preferences_changed":
        // topics or channels changed: an open customer panel reads them again
        this.emit("contact", data);
        break;
      case "agent.presence": {
        const agent = this.agent(data.agent_id);
        if (agent) {
          agent.presence = data.presence;
          this.emit("staff");
        }
        break;
      }
      case "typing":
        this.onTyping(data);
        break;
      default:
        // labels, teams or staff changed by an admin: simply load them again
        if (frame.type.startsWith("label")) this.loadLabels().catch(() => {});
        else if (frame.type.startsWith("team") || frame.type.startsWith("agent")) {
          this.loadStaff().catch(() => {});
        }
    }
  }

  patch(id, changes) {
    const conversation = this.conversations.get(id);
    if (conversation) Object.assign(conversation, changes);
    this.emit("conversation", { id, conversation: conversation || null, changes });
    if (!conversation) this.fetchConversation(id).catch(() => {});
  }

  onMessage(message) {
    const id = message.conversation_id;
    const known = this.conversations.has(id);
    const isNew = this.addMessage(message);
    this.typing.delete(id);
    this.emit("typing", { id });
    // waiting times, unread counts and the customer come with the conversation itself
    this.fetchConversation(id).catch(() => {});
    if (!known || message.kind === "customer") this.refreshCounts();
    const mine = this.sent.has(message.client_id) || this.author(message)?.id === this.me?.id;
    if (message.kind === "note" && (message.mentions || []).includes(this.me?.id) && !mine) {
      this.refreshCounts();
      if (isNew) this.emit("mentioned", { message });
    } else if (isNew && message.kind === "customer") {
      const conversation = this.conversations.get(id);
      const who = conversation ? customerName(conversation) : t("A customer");
      if (this.viewing === id) {
        announce(t("New message from {name}: {text}", { name: who, text: preview(message) }));
      }
    }
    if (this.viewing === id && document.visibilityState === "visible") this.markRead(id);
  }

  // A customer deleted their account: their deleted conversations leave every view, the held
  // ones (restricted: only admins may still open them) are read again, and lists refetch.
  onErased(data) {
    for (const c of this.conversations.values()) {
      if (c.customer_id === data.customer_id) {
        c.customer = { id: data.customer_id, name: "", shared: [], erased: true };
      }
    }
    for (const id of data.erased_conversation_ids || []) this.forget(id);
    for (const id of data.held_conversation_ids || []) {
      this.fetchConversation(id).catch(() => this.forget(id));
    }
    this.loadHolds().catch(() => {});
    this.refreshCounts();
    this.emit("erased", data);
    this.emit("resync");
  }

  forget(id) {
    this.conversations.delete(id);
    this.threads.delete(id);
    this.emit("gone", { id });
  }

  onTyping(data) {
    if (data.who === "company" && data.name === firstName(this.me?.name)) return;
    const until = Date.now() + TYPING_SHOWN;
    this.typing.set(data.conversation_id, { who: data.who, name: data.name || "", until });
    this.emit("typing", { id: data.conversation_id });
    setTimeout(() => {
      const shown = this.typing.get(data.conversation_id);
      if (shown && shown.until <= Date.now()) {
        this.typing.delete(data.conversation_id);
        this.emit("typing", { id: data.conversation_id });
      }
    }, TYPING_SHOWN + 50);
  }

  typingIn(id, note) {
    const now = Date.now();
    const key = `${id}:${note ? 1 : 0}`;
    this.lastTyping ||= new Map();
    if (now - (this.lastTyping.get(key) || 0) < 3000) return;
    if (this.live.send({ type: "typing", conversation_id: id, private: Boolean(note) })) {
      this.lastTyping.set(key, now);
    }
  }
}

export function preview(message) {
  if (!message) return "";
  const text = (message.body || "").replace(/\s+/g, " ").trim();
  if (text) return text.slice(0, 140);
  return message.attachments?.length ? t("sent a file") : "";
}
