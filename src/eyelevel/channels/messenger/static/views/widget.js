// The website widget: one company only, a visitor without an account, and the offer to keep
// the conversation by adding an email address.
import { config } from "../config.js";
import { h } from "../dom.js";
import { messageFor } from "../errors.js";
import { t } from "../i18n.js";
import { go } from "../router.js";
import { claim } from "../session.js";
import { bar, iconButton } from "./bar.js";
import { busy, errorLine, field } from "./form.js";
import { hoursTable, openBadge, phoneLink, promiseLine } from "./hours.js";
import { languageToggle } from "./settings.js";

// Asks the page around the iframe to close it (the loader accepts only this, from our origin).
export function closeWidget() {
  if (window.parent !== window) window.parent.postMessage({ eyelevel: "close" }, "*");
}

export function widgetActions() {
  const inFrame = window.parent !== window;
  return [languageToggle(), inFrame ? iconButton("close", t("Close the chat"), closeWidget) : null];
}

// Shown above a thread: how else to reach the company, and when.
export function companyIntro(company) {
  const details = h(
    "details",
    { class: "intro-hours" },
    h("summary", { text: t("Business hours") }),
    hoursTable(company),
  );
  return h(
    "section",
    { class: "card intro-card", "aria-label": t("About {company}", { company: company.name }) },
    h(
      "p",
      { class: "intro-lead" },
      t("Your messages go to {company}, the answers appear here.", { company: company.name }),
      " ",
      openBadge(company),
    ),
    promiseLine(company),
    phoneLink(company, true),
    details,
  );
}

export function keepPrompt() {
  return h(
    "p",
    { class: "keep" },
    h("a", { href: "#/keep", text: t("Keep this conversation") }),
    " ",
    h("span", { text: t("Add your email address to find it again later, on any device.") }),
  );
}

// #/ in the widget: the latest conversation with this company, or a new one.
export function widgetHome(store) {
  const latest = store.me ? store.latestWith(config.company) || store.sortedConversations()[0] : null;
  go(latest ? `/chat/${latest.id}` : `/new/${encodeURIComponent(config.company)}`, { replace: true });
}

export function keepView(root, { store }) {
  const { header } = bar({ title: t("Keep this conversation"), back: "#/", actions: widgetActions() });
  if (!store.me || !store.me.anonymous) {
    const kept = t("This conversation is already kept in your account.");
    root.append(header, h("main", { class: "page" }, h("p", { class: "empty", text: kept })));
    return;
  }
  const name = field({ label: t("Your name (optional)"), autocomplete: "name", maxlength: 100 });
  const email = field({
    label: t("Email address"),
    type: "email",
    autocomplete: "email",
    required: true,
  });
  const password = field({
    label: t("Password"),
    type: "password",
    autocomplete: "new-password",
    required: true,
    hint: t(
      "New here: choose one with at least 10 characters. Already have an eyelevel account: use its password, and this conversation moves into it.",
    ),
  });
  const error = errorLine();
  const submit = h("button", { type: "submit", class: "primary wide", text: t("Keep conversation") });
  const form = h("form", { novalidate: true }, name.node, email.node, password.node, error.node, submit);
  const main = h(
    "main",
    { class: "page" },
    h(
      "section",
      { class: "card" },
      h("p", { text: t("Your messages stay, and you can read them again at any time.") }),
      form,
    ),
  );
  root.append(header, main);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!email.control.value.includes("@")) return error.show(t("Please enter a valid email address."));
    if (!password.control.value) return error.show(t("Please enter a password."));
    busy(submit, true);
    error.show("");
    try {
      const address = email.control.value.trim();
      const result = await claim(address, password.control.value, name.control.value.trim());
      store.signedIn(result.me);
      await store.loadConversations().catch(() => {});
      const done = result.merged
        ? t("Done. This conversation is now in your eyelevel account.")
        : t(
            "Done. We sent a link to {email}: please confirm your address. Then you can sign in at {site} on any device.",
            { email: address, site: location.host },
          );
      main.replaceChildren(
        h(
          "section",
          { class: "card", role: "status" },
          h("p", { text: done }),
          h("a", { class: "button primary", href: "#/", text: t("Back to the conversation") }),
        ),
      );
    } catch (failure) {
      error.show(messageFor(failure));
      busy(submit, false);
    }
    return undefined;
  });
}
