// Who is using the messenger: a signed-in customer (cookie session) or the widget's visitor
// (a bearer token kept in this origin's localStorage, never readable by the host page).
import { ApiError, bearerToken, get, post, setBearer } from "./api.js";
import { config, isWidget } from "./config.js";

const ME = "eyelevel.me";
const TOKEN = `eyelevel.visitor.${config.company || ""}`;

function store(key, value) {
  try {
    if (value === null) localStorage.removeItem(key);
    else localStorage.setItem(key, value);
  } catch {
    // private mode or storage blocked: the session then lasts as long as the page
  }
}

function load(key) {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

// The last known identity, for opening offline (auth answers are never cached).
export function rememberedMe() {
  try {
    return JSON.parse(load(ME) || "null");
  } catch {
    return null;
  }
}

function remember(me) {
  store(ME, me ? JSON.stringify(me) : null);
}

// me, or null when nobody is signed in; throws OfflineError without a connection
export async function fetchMe() {
  if (isWidget) {
    // a cross-site iframe may get no storage at all (third-party storage blocked): then the
    // token lives in memory for as long as the page does
    const token = load(TOKEN) || bearerToken();
    if (!token) return null;
    setBearer(token);
  }
  try {
    const me = await get("/auth/me");
    if (!isWidget) remember(me);
    return me;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      if (isWidget) forgetVisitor();
      else remember(null);
      return null;
    }
    throw error;
  }
}

export async function signIn(email, password) {
  await post("/auth/login", { kind: "customer", email, password });
  return fetchMe();
}

export async function signUp(name, email, password) {
  await post("/auth/signup", { display_name: name, email, password });
  return fetchMe();
}

export async function signOut() {
  try {
    await post("/auth/logout");
  } finally {
    await forgetSession();
  }
}

// Forget everything this device keeps of the signed-in account (after signing out, or after
// the account was deleted: the server ended the session already).
export async function forgetSession() {
  remember(null);
  if (isWidget) forgetVisitor();
  await clearCaches();
}

// History the service worker kept for offline use belongs to whoever was signed in.
export async function clearCaches() {
  if (!("caches" in window)) return;
  const keys = await caches.keys();
  await Promise.all(keys.filter((k) => k.startsWith("eyelevel-api")).map((k) => caches.delete(k)));
}

// -- the widget's visitor ---------------------------------------------------------------------

export async function becomeVisitor() {
  const created = await post("/auth/visitor", {});
  store(TOKEN, created.token);
  setBearer(created.token);
  return fetchMe();
}

export async function claim(email, password, name) {
  const body = { email, password };
  if (name) body.display_name = name;
  const claimed = await post("/auth/claim", body);
  store(TOKEN, claimed.token);
  setBearer(claimed.token);
  return { merged: Boolean(claimed.merged), me: await fetchMe() };
}

function forgetVisitor() {
  store(TOKEN, null);
  setBearer(null);
}
