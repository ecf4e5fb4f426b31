// eyelevel service worker (scope /): opens the messenger offline and shows the history it has
// already seen. The app shell is cached per version; conversation reads are network-first with
// the last answer as fallback. Never cached: sign-in answers, attachments, the widget's
// bearer-token requests, anything but GET. Signing out deletes the conversation cache.
// Web push: a notification shows the server's title and body (the company's name and, unless
// the customer chose to include the text, only *that* there is a reply), one per conversation
// (its tag); a click focuses an open messenger on that conversation or opens one.
const VERSION = "__VERSION__";
const SHELL_CACHE = `eyelevel-shell-${VERSION}`;
const API_CACHE = "eyelevel-api";
const SHELL = __SHELL__;

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(SHELL_CACHE)
      .then((cache) => cache.addAll(SHELL))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) =>
        Promise.all(
          keys
            .filter((key) => key.startsWith("eyelevel-shell-") && key !== SHELL_CACHE)
            .map((key) => caches.delete(key)),
        ),
      )
      .then(() => self.clients.claim()),
  );
});

async function networkFirst(request) {
  const cache = await caches.open(API_CACHE);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(request, response.clone());
    return response;
  } catch (error) {
    const cached = await cache.match(request);
    if (cached) return cached;
    throw error;
  }
}

async function cacheFirst(request) {
  const cached = await caches.match(request);
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok && new URL(request.url).pathname.startsWith(`/static/${VERSION}/`)) {
    const cache = await caches.open(SHELL_CACHE);
    await cache.put(request, response.clone());
  }
  return response;
}

async function page(request) {
  try {
    const response = await fetch(request);
    if (response.ok) {
      const cache = await caches.open(SHELL_CACHE);
      await cache.put("/", response.clone());
    }
    return response;
  } catch (error) {
    const cached = await caches.match("/", { ignoreSearch: true });
    if (cached) return cached;
    throw error;
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  const path = url.pathname;
  if (path.startsWith("/api/")) {
    if (path.startsWith("/api/v1/conversations") && !request.headers.has("authorization")) {
      event.respondWith(networkFirst(request));
    }
    return; // sign-in, attachments and the rest: network only
  }
  if (path.startsWith("/static/") || path.startsWith("/icons/") || path === "/manifest.webmanifest") {
    event.respondWith(cacheFirst(request));
    return;
  }
  if (request.mode === "navigate" && path === "/") event.respondWith(page(request));
});

// only a path of this origin: a notification can never send the customer elsewhere
function messengerUrl(url) {
  try {
    const target = new URL(typeof url === "string" ? url : "/", self.location.origin);
    return target.origin === self.location.origin ? target.href : self.location.origin + "/";
  } catch {
    return self.location.origin + "/";
  }
}

self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch {
    data = {};
  }
  const text = (value) => (typeof value === "string" ? value.slice(0, 300) : "");
  const tag = text(data.tag);
  const options = {
    body: text(data.body),
    icon: "/icons/icon-192.png",
    badge: "/icons/icon-192.png",
    data: { url: messengerUrl(data.url) },
  };
  if (tag) {
    options.tag = tag;
    options.renotify = true;
  }
  event.waitUntil(self.registration.showNotification(text(data.title) || "eyelevel", options));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = messengerUrl(event.notification.data && event.notification.data.url);
  event.waitUntil(
    (async () => {
      const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
      const app = windows.find((client) => new URL(client.url).pathname === "/");
      if (app) {
        app.postMessage({ eyelevel: "open", url });
        await app.focus().catch(() => {}); // allowed only while handling a person's click
        return;
      }
      await self.clients.openWindow(url);
    })(),
  );
});
