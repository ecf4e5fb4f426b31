/* eyelevel website widget. Paste into a page:
 *   <script src="https://eyelevel.example/widget.js" data-company="your-slug" async></script>
 * Adds a chat button; the chat itself opens in an iframe from the eyelevel origin, so this page
 * cannot read the conversation. Nothing is loaded before the button is pressed. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.eyelevelWidget) return;
  var slug = script.getAttribute("data-company") || "";
  if (!/^[a-z0-9-]{1,50}$/.test(slug)) return;
  var origin = new URL(script.src).origin;
  var lang = script.getAttribute("data-lang") || document.documentElement.lang || "";
  lang = lang.slice(0, 2).toLowerCase();
  var de = lang === "de" || (!lang && /^de\b/i.test(navigator.language || ""));
  var text = de
    ? { open: "Chat öffnen", close: "Chat schließen", title: "Chat" }
    : { open: "Open chat", close: "Close chat", title: "Chat" };
  var frame = null;
  var open = false;
  var ns = "http://www.w3.org/2000/svg";
  window.eyelevelWidget = true;

  function css(el, rules) {
    for (var key in rules) el.style[key] = rules[key];
  }

  function icon(d) {
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "28");
    svg.setAttribute("height", "28");
    svg.setAttribute("aria-hidden", "true");
    var path = document.createElementNS(ns, "path");
    path.setAttribute("d", d);
    path.setAttribute("fill", "none");
    path.setAttribute("stroke", "currentColor");
    path.setAttribute("stroke-width", "2");
    path.setAttribute("stroke-linecap", "round");
    path.setAttribute("stroke-linejoin", "round");
    svg.appendChild(path);
    return svg;
  }

  var CHAT = "M5 5h14a2 2 0 012 2v8a2 2 0 01-2 2h-8l-5 4v-4H5a2 2 0 01-2-2V7a2 2 0 012-2z";
  var CLOSE = "M6 6l12 12M18 6L6 18";
  var button = document.createElement("button");
  button.type = "button";
  css(button, {
    position: "fixed", right: "20px", bottom: "20px", zIndex: "2147483000",
    width: "60px", height: "60px", borderRadius: "50%", border: "0", padding: "0",
    background: "#1f5fd6", color: "#fff", cursor: "pointer",
    boxShadow: "0 4px 16px rgba(0,0,0,.25)", display: "flex",
    alignItems: "center", justifyContent: "center",
  });

  function label() {
    button.setAttribute("aria-label", open ? text.close : text.open);
    button.setAttribute("aria-expanded", open ? "true" : "false");
    button.title = open ? text.close : text.open;
    button.replaceChildren(icon(open ? CLOSE : CHAT));
  }

  function place() {
    if (!frame) return;
    var small = window.innerWidth < 480;
    css(frame, small
      ? { right: "0", bottom: "0", width: "100%", height: "100%", borderRadius: "0" }
      : { right: "20px", bottom: "92px", width: "380px", borderRadius: "16px",
          height: "min(620px, calc(100vh - 120px))" });
    button.style.display = small && open ? "none" : "flex";
  }

  function show() {
    if (!frame) {
      frame = document.createElement("iframe");
      frame.src = origin + "/widget/" + slug + (lang === "de" || lang === "en" ? "?lang=" + lang : "");
      frame.title = text.title;
      frame.setAttribute("allow", "clipboard-write");
      css(frame, {
        position: "fixed", zIndex: "2147483001", border: "0", background: "#fff",
        boxShadow: "0 8px 32px rgba(0,0,0,.25)", colorScheme: "normal",
      });
      document.body.appendChild(frame);
    }
    open = true;
    frame.style.display = "block";
    place();
    label();
    frame.focus();
  }

  function hide() {
    open = false;
    if (frame) frame.style.display = "none";
    place();
    label();
    button.style.display = "flex";
    button.focus();
  }

  button.addEventListener("click", function () {
    if (open) hide();
    else show();
  });
  window.addEventListener("resize", place);
  // the chat may ask to be closed; nothing else is accepted, and only from the chat's frame
  window.addEventListener("message", function (event) {
    if (frame && event.source === frame.contentWindow && event.origin === origin &&
        event.data && event.data.eyelevel === "close") hide();
  });

  function mount() {
    label();
    document.body.appendChild(button);
  }
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
