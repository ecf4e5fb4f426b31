// eyelevel service worker (scope /): opens the messenger offline and shows the history it has
// already seen. The app shell is cached per version; conversation reads are network-first with
// the last answer as fallback. Never cached: sign-in answers, attachments, the widget's
// bearer-token requests, anything but GET. Signing out deletes the conversation cache.
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
