// Messages not yet acknowledged by the server, kept in localStorage so that neither going
// offline nor closing the tab loses them. Sent one at a time, in order; each carries its
// client_id, so a repeat after a lost answer is stored once (the server dedupes by it).
import { ApiError, OfflineError } from "./api.js";

// A client id for one send. crypto.randomUUID exists only on https (and localhost).
export function newClientId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

const FIRST_RETRY = 2000;
const LAST_RETRY = 60000;

export class Outbox extends EventTarget {
  constructor(key, send) {
    super();
    this.key = key;
    this.send = send;
    this.items = this.load();
    this.running = false;
    this.again = false;
    this.timer = null;
    this.delay = FIRST_RETRY;
    this.paused = false;
    window.addEventListener("storage", (event) => {
      if (event.key === this.key) {
        this.items = this.load();
        this.changed();
      }
    });
  }

  load() {
    try {
      const items = JSON.parse(localStorage.getItem(this.key) || "[]");
      return Array.isArray(items) ? items : [];
    } catch {
      return [];
    }
  }

  save() {
    try {
      localStorage.setItem(this.key, JSON.stringify(this.items));
    } catch {
      // storage full or blocked: the queue still works for this page's lifetime
    }
  }

  changed() {
    this.dispatchEvent(new CustomEvent("change"));
  }

  forConversation(id) {
    return this.items.filter((item) => item.conversation_id === id);
  }

  // queued first messages of conversations not started yet, with their followers
  forCompany(slug) {
    return this.items.filter((item) => !item.conversation_id && item.company === slug);
  }

  add(item) {
    this.items.push({ created_at: new Date().toISOString(), ...item });
    this.save();
    this.changed();
    this.flush();
  }

  remove(clientId) {
    this.items = this.items.filter((item) => item.client_id !== clientId);
    this.save();
    this.changed();
  }

  update(clientId, fields) {
    const item = this.items.find((i) => i.client_id === clientId);
    if (item) Object.assign(item, fields);
    this.save();
  }

  // A started conversation takes the messages that were queued behind its first one.
  rebind(draftId, conversationId) {
    for (const item of this.items) {
      if (item.draft !== draftId) continue;
      delete item.draft;
      if (conversationId) item.conversation_id = conversationId;
    }
    this.save();
    this.changed();
  }

  clear() {
    this.items = [];
    this.save();
    this.changed();
  }

  async flush() {
    if (this.paused) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    clearTimeout(this.timer);
    this.timer = null;
    try {
      while (this.items.length > 0 && !this.paused) {
        const item = this.items[0];
        try {
          const result = await this.send(item);
          this.remove(item.client_id);
          this.delay = FIRST_RETRY;
          this.dispatchEvent(new CustomEvent("sent", { detail: { item, result } }));
        } catch (error) {
          if (error instanceof OfflineError || (error instanceof ApiError && error.transient)) {
            this.retryLater();
            break;
          }
          if (error instanceof ApiError && error.status === 401) {
            this.paused = true;
            this.dispatchEvent(new CustomEvent("unauthenticated"));
            break;
          }
          // refused for good (e.g. too long): keep nothing, tell the writer why
          this.remove(item.client_id);
          if (!item.conversation_id) this.rebind(item.client_id, null);
          this.dispatchEvent(new CustomEvent("failed", { detail: { item, error } }));
        }
      }
    } finally {
      this.running = false;
      if (this.again) {
        this.again = false;
        if (this.timer === null) this.flush();
      }
    }
  }

  retryLater() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush();
    }, this.delay);
    this.delay = Math.min(this.delay * 2, LAST_RETRY);
  }

  // the connection is back: try at once
  retryNow() {
    this.paused = false;
    this.delay = FIRST_RETRY;
    clearTimeout(this.timer);
    this.timer = null;
    this.flush();
  }
}
