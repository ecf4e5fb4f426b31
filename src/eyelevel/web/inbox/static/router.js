// Hash routes of the inbox:
//   #/inbox/<view>[/<conversation id>]?status=&sort=&label=   a view and the open conversation
//   #/search[/<conversation id>]?q=&at=<seq>                  search results, a hit opened
//   #/account, #/canned, #/callbacks, #/reports?period=&from=&to=&group=, #/admin/<page>
// A view is mine, unassigned, all, mentions or team-<id>.

export function parse() {
  const hash = location.hash.replace(/^#/, "") || "/";
  const [path, query] = hash.split("?");
  const parts = path
    .split("/")
    .filter(Boolean)
    .map((part) => {
      try {
        return decodeURIComponent(part);
      } catch {
        return "";
      }
    });
  const params = new URLSearchParams(query || "");
  const section = parts[0] || "inbox";
  if (section === "search") {
    return { section, view: null, conversation: Number(parts[1]) || null, params };
  }
  if (section === "inbox") {
    return { section, view: parts[1] || "mine", conversation: Number(parts[2]) || null, params };
  }
  return { section, page: parts[1] || null, conversation: null, params };
}

export function href(path, params) {
  const query = params ? new URLSearchParams(params).toString() : "";
  return "#" + path + (query ? "?" + query : "");
}

export function go(path, { replace = false } = {}) {
  const target = path.startsWith("#") ? path : `#${path}`;
  if (replace) {
    history.replaceState(history.state, "", target);
    window.dispatchEvent(new HashChangeEvent("hashchange"));
  } else if (location.hash === target) {
    window.dispatchEvent(new HashChangeEvent("hashchange"));
  } else {
    location.hash = target;
  }
}

// the same route with some query parameters changed (null removes one)
export function withParams(route, changes, { keepConversation = true } = {}) {
  const params = new URLSearchParams(route.params);
  for (const [key, value] of Object.entries(changes)) {
    if (value === null || value === undefined || value === "") params.delete(key);
    else params.set(key, String(value));
  }
  let path = route.section === "inbox" ? `/inbox/${route.view}` : `/${route.section}`;
  if (keepConversation && route.conversation) path += `/${route.conversation}`;
  const query = params.toString();
  return "#" + path + (query ? "?" + query : "");
}
