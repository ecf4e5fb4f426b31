// Start-up: who is signed in, then the frame (top bar, sidebar) and the screen for the route.
import { ApiError, get, OfflineError, post } from "./messenger/api.js";
import { clear, h } from "./messenger/dom.js";
import { t } from "./messenger/i18n.js";
import { go, parse } from "./router.js";
import { Store } from "./store.js";
import { accountPage } from "./views/account.js";
import { adminPage } from "./views/admin.js";
import { callbacksPage } from "./views/callbacks.js";
import { cannedPage } from "./views/canned.js";
import { inboxScreen } from "./views/inbox.js";
import { reportsPage } from "./views/reports.js";
import { installShortcuts } from "./views/shortcuts.js";
import { sidebar } from "./views/sidebar.js";
import { signInView } from "./views/signin.js";
import { toasts } from "./views/toasts.js";
import { topbar } from "./views/topbar.js";
import { fill } from "./fill.js";

const store = new Store();
const app = document.getElementById("app");
let frame = null;

function page(render) {
  return {
    node: h("main", { id: "main", class: "page", tabindex: "-1" }),
    cleanup: null,
    update(route) {
      if (this.cleanup) this.cleanup();
      clear(this.node);
      this.cleanup = render(this.node, { store, route }) || null;
      const heading = this.node.querySelector("h1");
      if (heading) heading.focus({ preventScroll: true });
    },
    destroy() {
      if (this.cleanup) this.cleanup();
    },
  };
}

const SCREENS = {
  inbox: () => inboxScreen(store),
  search: () => inboxScreen(store),
  account: () => page(accountPage),
  canned: () => page(cannedPage),
  callbacks: () => page(callbacksPage),
  reports: () => page(reportsPage),
  admin: () => page(adminPage),
};

async function signOut() {
  try {
    await post("/auth/logout");
  } catch {
    // the session may have ended already; the page forgets it all the same
  }
  store.signedOut();
  showSignIn();
}

function showSignIn() {
  frame = null;
  clear(app);
  document.body.classList.remove("signed-in");
  const root = h("div", { class: "signin-stage" });
  app.append(root);
  signInView(root, {
    onSignedIn: async () => {
      await start();
    },
  });
}

function noCompany() {
  clear(app);
  app.append(
    h(
      "main",
      { class: "signin-stage" },
      h(
        "section",
        { class: "card signin-card" },
        h("h1", { text: t("No company yet") }),
        h("p", {
          text: t("Your account is not a member of any company. Ask an admin for an invitation."),
        }),
        h("button", {
          type: "button",
          class: "primary",
          text: t("Sign out"),
          on: { click: signOut },
        }),
      ),
    ),
  );
}

function render() {
  if (!frame) return;
  const route = parse();
  if (
    (route.section === "admin" && !store.isAdmin()) ||
    (route.section === "reports" && !store.isLead())
  ) {
    go("/inbox/mine", { replace: true });
    return;
  }
  const kind = SCREENS[route.section] ? route.section : "inbox";
  const family = kind === "search" ? "inbox" : kind;
  if (frame.family !== family) {
    if (frame.screen) frame.screen.destroy();
    frame.screen = SCREENS[kind]();
    frame.family = family;
    fill(frame.body, frame.side.node, frame.screen.node);
  }
  frame.top.update(route);
  frame.side.update(route);
  frame.screen.update(route);
}

async function start() {
  const me = await get("/auth/me");
  if (me.kind !== "agent") {
    await post("/auth/logout").catch(() => {});
    showSignIn();
    return;
  }
  await store.signedIn(me);
  if (!store.company) {
    noCompany();
    return;
  }
  clear(app);
  document.body.classList.add("signed-in");
  const top = topbar(store, { signOut });
  const side = sidebar(store);
  const body = h("div", { class: "workspace" });
  const skip = h("a", { class: "skip", href: "#main", text: t("Skip to the content") });
  skip.addEventListener("click", (event) => {
    event.preventDefault();
    document.getElementById("main")?.focus();
  });
  app.append(skip, top.node, body, toasts(store));
  frame = { top, side, body, screen: null, family: null };
  if (!location.hash || location.hash === "#" || location.hash === "#/") {
    history.replaceState(history.state, "", "#/inbox/mine");
  }
  render();
  store.loadCounts().catch(() => {});
}

function failed() {
  clear(app);
  app.append(
    h(
      "main",
      { class: "signin-stage" },
      h(
        "section",
        { class: "card signin-card", role: "alert" },
        h("p", { text: t("Something went wrong. Please try again.") }),
        h("button", {
          type: "button",
          class: "primary",
          text: t("Try again"),
          on: { click: () => location.reload() },
        }),
      ),
    ),
  );
}

async function boot() {
  window.addEventListener("hashchange", render);
  store.on("unauthenticated", () => {
    store.signedOut();
    showSignIn();
  });
  installShortcuts(store, () => frame?.screen);
  try {
    await start();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) showSignIn();
    else if (error instanceof OfflineError) failed();
    else failed();
  }
}

boot();
