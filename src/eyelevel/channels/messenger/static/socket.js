// The live connection: events as they happen, catch-up from the last stream position after a
// reconnect, typing and read frames. Reconnects by itself with growing, jittered delays.
import { bearerToken } from "./api.js";

const TYPING_EVERY = 3000;
const SILENCE_LIMIT = 70000; // the server pings every 25 s
const CLOSE_UNAUTHENTICATED = 4401;
const CLOSE_FORBIDDEN_ORIGIN = 4403;
const CLOSE_RESYNC = 4409;

export class Live extends EventTarget {
  constructor() {
    super();
    this.pos = null;
    this.ws = null;
    this.attempt = 0;
    this.timer = null;
    this.watchdog = null;
    this.stopped = true;
    this.state = "closed";
    this.lastTyping = new Map();
    this.refs = 0;
    window.addEventListener("online", () => this.nudge());
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") this.nudge();
    });
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  setState(state) {
    if (this.state === state) return;
    this.state = state;
    this.emit("state", state);
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.watchdog);
    const ws = this.ws;
    this.ws = null;
    if (ws) ws.close(1000);
    this.pos = null;
    this.setState("closed");
  }

  connect() {
    clearTimeout(this.timer);
    if (this.stopped || this.ws) return;
    const url = new URL("/api/v1/ws", location.href);
    url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
    if (this.pos !== null) url.searchParams.set("since", String(this.pos));
    const token = bearerToken();
    // a page without cookies (the widget) offers its token as a subprotocol
    const ws = token ? new WebSocket(url, ["eyelevel", `bearer.${token}`]) : new WebSocket(url);
    this.ws = ws;
    this.setState("connecting");
    ws.onmessage = (event) => {
      if (this.ws !== ws) return;
      this.alive();
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      this.onFrame(frame);
    };
    ws.onclose = (event) => {
      if (this.ws !== ws) return;
      this.ws = null;
      clearTimeout(this.watchdog);
      this.setState("closed");
      if (event.code === CLOSE_UNAUTHENTICATED) {
        this.emit("unauthenticated");
        return;
      }
      if (event.code === CLOSE_FORBIDDEN_ORIGIN) return;
      if (event.code === CLOSE_RESYNC) {
        this.pos = null;
        this.emit("resync");
      }
      this.schedule();
    };
  }

  alive() {
    clearTimeout(this.watchdog);
    const ws = this.ws;
    this.watchdog = setTimeout(() => {
      if (this.ws === ws && ws) ws.close(4000);
    }, SILENCE_LIMIT);
  }

  onFrame(frame) {
    switch (frame.type) {
      case "hello": {
        this.attempt = 0;
        const fresh = this.pos === null;
        if (fresh) this.pos = frame.pos;
        this.setState("open");
        this.emit("open", { fresh });
        return;
      }
      case "ping":
        this.send({ type: "pong" });
        return;
      case "resync_required":
        this.pos = frame.pos ?? null;
        this.emit("resync");
        return;
      case "ack":
      case "error":
      case "pong":
        this.emit("reply", frame);
        return;
      default:
        if (typeof frame.pos === "number") {
          if (this.pos !== null && frame.pos <= this.pos) return; // already seen
          this.pos = frame.pos;
        }
        this.emit("event", frame);
    }
  }

  send(frame) {
    if (!this.ws || this.state !== "open") return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  typing(conversationId) {
    const now = Date.now();
    if (now - (this.lastTyping.get(conversationId) || 0) < TYPING_EVERY) return;
    if (this.send({ type: "typing", conversation_id: conversationId })) {
      this.lastTyping.set(conversationId, now);
    }
  }

  read(conversationId, seq) {
    this.refs += 1;
    return this.send({ type: "read", conversation_id: conversationId, seq, ref: `r${this.refs}` });
  }

  schedule() {
    if (this.stopped) return;
    const base = Math.min(30000, 1000 * 2 ** this.attempt);
    this.attempt += 1;
    this.timer = setTimeout(() => this.connect(), base * (0.5 + Math.random() / 2));
  }

  // the network or the tab came back: do not wait for the backoff
  nudge() {
    if (this.stopped || this.ws) return;
    this.attempt = 0;
    this.connect();
  }
}
