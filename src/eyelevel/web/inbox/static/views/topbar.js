// The bar across the top: company, search, my presence, shortcuts, account, sign out.
import { h } from "../messenger/dom.js";
import { t } from "../messenger/i18n.js";
import { icon } from "../icons.js";
import { PRESENCES, presenceName } from "../format.js";
import { go } from "../router.js";
import { openShortcuts } from "./shortcuts.js";
import { uid } from "./form.js";

export function topbar(store, { signOut }) {
  const companies = store.memberships();
  let company;
  if (companies.length > 1) {
    const id = uid("co");
    const select = h(
      "select",
      { id, class: "company-switch" },
      companies.map((m) => h("option", { value: m.slug, text: m.name })),
    );
    select.value = store.company.slug;
    select.addEventListener("change", () => store.switchCompany(select.value));
    company = h("span", {}, h("label", { for: id, class: "sr-only", text: t("Company") }), select);
  } else {
    company = h("span", { class: "company-name", text: store.company.name });
  }

  const searchId = uid("q");
  const query = h("input", {
    id: searchId,
    type: "search",
    name: "q",
    class: "search-input",
    placeholder: t("Search conversations"),
    autocomplete: "off",
    maxlength: 200,
    enterkeyhint: "search",
  });
  const search = h(
    "form",
    { role: "search", class: "search", "aria-label": t("Search") },
    h("label", { for: searchId, class: "sr-only", text: t("Search conversations") }),
    icon("search"),
    query,
    h("span", { class: "key-hint", "aria-hidden": "true", text: "/" }),
  );
  search.addEventListener("submit", (event) => {
    event.preventDefault();
    const q = query.value.trim();
    if (q) go(`/search?q=${encodeURIComponent(q)}`);
  });
  query.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      query.blur();
    }
  });

  const presenceId = uid("p");
  const presence = h(
    "select",
    { id: presenceId, class: "presence-select" },
    PRESENCES.map((p) => h("option", { value: p, text: presenceName(p) })),
  );
  const dot = h("span", { class: "dot", "aria-hidden": "true" });
  const presenceBox = h(
    "div",
    { class: "presence-box" },
    dot,
    h("label", { for: presenceId, class: "sr-only", text: t("My status") }),
    presence,
  );
  function drawPresence() {
    const mine = store.myPresence();
    presence.value = mine;
    dot.className = `dot dot-${mine}`;
  }
  presence.addEventListener("change", async () => {
    const wanted = presence.value;
    try {
      await store.setPresence(wanted);
    } catch {
      drawPresence();
    }
  });
  store.on("staff", drawPresence);
  drawPresence();

  const account = h(
    "a",
    { href: "#/account", class: "top-link", title: t("My account") },
    icon("user"),
    h("span", { class: "top-label", text: store.me.name }),
  );
  account.setAttribute("aria-label", t("My account"));
  const shortcuts = h(
    "button",
    {
      type: "button",
      class: "icon-btn",
      "aria-label": t("Keyboard shortcuts"),
      title: t("Keyboard shortcuts (?)"),
      on: { click: () => openShortcuts() },
    },
    icon("keyboard"),
  );
  const out = h(
    "button",
    {
      type: "button",
      class: "icon-btn",
      "aria-label": t("Sign out"),
      title: t("Sign out"),
      on: { click: () => signOut() },
    },
    icon("out"),
  );

  // a short reconnect is not worth a word; a longer one is
  const connection = h("p", { class: "connection", role: "status" });
  let slow = null;
  store.on("connection", () => {
    clearTimeout(slow);
    if (store.live.state === "open") {
      connection.textContent = "";
      return;
    }
    slow = setTimeout(() => {
      if (store.live.state !== "open" && store.me) {
        connection.textContent = navigator.onLine ? t("Connecting…") : t("Offline");
      }
    }, 4000);
  });

  const node = h(
    "header",
    { class: "topbar" },
    h(
      "a",
      { class: "brand-mark", href: "#/inbox/mine", "aria-label": t("eyelevel inbox: Mine") },
      h("img", { src: "/icons/icon.svg", alt: "", width: 24, height: 24 }),
    ),
    company,
    search,
    h("div", { class: "top-actions" }, connection, presenceBox, shortcuts, account, out),
  );

  return {
    node,
    search: query,
    update(route) {
      if (route.section === "search") {
        const q = route.params.get("q") || "";
        if (document.activeElement !== query) query.value = q;
      }
      account.classList.toggle("current", route.section === "account");
      if (route.section === "account") account.setAttribute("aria-current", "page");
      else account.removeAttribute("aria-current");
    },
  };
}
