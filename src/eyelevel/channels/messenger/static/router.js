// Hash routes: #/ (inbox), #/signin, #/signup, #/find, #/company/<slug>, #/chat/<id>,
// #/new/<slug> (a conversation not started yet), #/settings, #/keep (widget: keep the chat).

export function parse() {
  const hash = location.hash.replace(/^#/, "") || "/";
  const [path, query] = hash.split("?");
  const parts = path.split("/").filter(Boolean);
  let arg = null;
  try {
    arg = parts[1] ? decodeURIComponent(parts[1]) : null;
  } catch {
    arg = null;
  }
  return { name: parts[0] || "inbox", arg, query: new URLSearchParams(query || "") };
}

export function go(path, { replace = false } = {}) {
  if (replace) {
    history.replaceState(history.state, "", `#${path}`);
    window.dispatchEvent(new HashChangeEvent("hashchange"));
  } else {
    location.hash = path;
  }
}
