// Start-up: who is here, the live connection, the service worker, and the view for the route.
import { OfflineError } from "./api.js";
import { config, isWidget } from "./config.js";
import { clear, h } from "./dom.js";
import { applyStoredLanguage, t } from "./i18n.js";
import { go, parse } from "./router.js";
import { fetchMe, rememberedMe, signOut } from "./session.js";
import { Store } from "./store.js";
import { signInView, signUpView } from "./views/auth.js";
import { chatView } from "./views/chat.js";
import { companyView } from "./views/company.js";
import { findView } from "./views/find.js";
import { inboxView } from "./views/inbox.js";
import { settingsView } from "./views/settings.js";
import { needsVerification } from "./views/verify.js";
import { keepView, widgetHome } from "./views/widget.js";

const APP_VIEWS = {
  inbox: inboxView,
  signin: signInView,
  signup: signUpView,
  find: findView,
  company: companyView,
  chat: chatView,
  new: chatView,
  settings: settingsView,
};
const WIDGET_VIEWS = { chat: chatView, new: chatView, keep: keepView };
const PUBLIC = new Set(["signin", "signup"]);

const store = new Store();
const app = document.getElementById("app");
const banner = h("p", { class: "netstate", role: "status" });
const stage = h("div", { class: "stage" });
let cleanup = null;

function staffNotice(root) {
  root.append(
    h(
      "main",
      { class: "auth" },
      h(
        "section",
        { class: "card" },
        h("h1", { tabindex: "-1", text: t("This is the messenger for customers") }),
        h("p", { text: t("You are signed in as a member of a company's team.") }),
        h("button", {
          type: "button",
          class: "secondary wide",
          text: t("Sign out"),
          on: {
            click: async () => {
              await signOut().catch(() => {});
              store.signedOut();
              go("/signin", { replace: true });
            },
          },
        }),
      ),
    ),
  );
}

function render() {
  const route = parse();
  if (isWidget) {
    if (route.name === "inbox" || !WIDGET_VIEWS[route.name]) {
      widgetHome(store);
      return;
    }
  } else if (!store.me && !PUBLIC.has(route.name)) {
    go("/signin", { replace: true });
    return;
  } else if (store.me && PUBLIC.has(route.name)) {
    go("/", { replace: true });
    return;
  }
  if (cleanup) cleanup();
  cleanup = null;
  clear(stage);
  const views = isWidget ? WIDGET_VIEWS : APP_VIEWS;
  if (!isWidget && store.me && store.me.kind !== "customer") {
    staffNotice(stage);
  } else {
    cleanup = (views[route.name] || views.inbox)(stage, { store, route }) || null;
  }
  const heading = stage.querySelector("h1");
  if (heading && document.activeElement !== heading && route.name !== "new") {
    heading.focus({ preventScroll: true });
  }
}

let slow = null;

function drawConnection() {
  clearTimeout(slow);
  if (!store.online) {
    banner.textContent = t("You are offline. New messages are sent when you are back online.");
    banner.hidden = false;
    return;
  }
  banner.hidden = true;
  if (store.me && store.live.state !== "open") {
    // a short reconnect is not worth a message
    slow = setTimeout(() => {
      if (store.live.state !== "open" && store.me) {
        banner.textContent = t("Connecting…");
        banner.hidden = false;
      }
    }, 4000);
  }
}

// the server answered with an error we cannot work around: say so and offer a retry
function failed() {
  clear(app);
  app.append(
    h(
      "main",
      { class: "auth" },
      h(
        "section",
        { class: "card", role: "alert" },
        h("p", { text: t("Something went wrong. Please try again.") }),
        h("button", {
          type: "button",
          class: "primary wide",
          text: t("Try again"),
          on: { click: () => location.reload() },
        }),
      ),
    ),
  );
}

async function boot() {
  if (applyStoredLanguage()) return;
  if (!isWidget && "serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js").catch(() => {});
    // a notification was clicked while the messenger is open: show its conversation
    navigator.serviceWorker.addEventListener("message", (event) => {
      const data = event.data || {};
      if (data.eyelevel !== "open" || typeof data.url !== "string") return;
      const url = new URL(data.url, location.origin);
      if (url.origin === location.origin && url.hash.startsWith("#/")) go(url.hash.slice(1));
    });
  }
  document.body.classList.add(isWidget ? "mode-widget" : "mode-app");
  if (isWidget) {
    window.addEventListener("keydown", (event) => {
      const dialogOpen = document.querySelector("dialog[open]");
      if (event.key === "Escape" && window.parent !== window && !dialogOpen) {
        window.parent.postMessage({ eyelevel: "close" }, "*");
      }
    });
  }
  let me = null;
  try {
    me = await fetchMe();
  } catch (error) {
    if (!(error instanceof OfflineError)) {
      failed();
      return;
    }
    me = isWidget ? null : rememberedMe();
  }
  if (me) {
    store.signedIn(me);
    if (isWidget) await store.loadConversations().catch(() => {});
  }
  store.on("connection", drawConnection);
  store.on("unauthenticated", () => {
    store.signedOut({ expired: true });
    go(isWidget ? `/new/${config.company}` : "/signin", { replace: true });
  });
  // back from the mail app: the address may be confirmed by now
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState !== "visible" || !needsVerification(store.me)) return;
    fetchMe()
      .then((fresh) => {
        if (fresh && fresh.email_verified) {
          store.me = fresh;
          store.emit("me");
        }
      })
      .catch(() => {});
  });
  drawConnection();
  clear(app);
  app.append(banner, stage);
  window.addEventListener("hashchange", render);
  render();
}

boot();
