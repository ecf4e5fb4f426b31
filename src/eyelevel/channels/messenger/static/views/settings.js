// Language and signing out.
import { config, isWidget } from "../config.js";
import { h } from "../dom.js";
import { lang, setLanguage, t } from "../i18n.js";
import { go } from "../router.js";
import { signOut } from "../session.js";
import { bar } from "./bar.js";

// Links to the other languages (each named in its own language).
export function languageSwitch() {
  const links = Object.entries(config.languages)
    .filter(([code]) => code !== lang)
    .map(([code, name]) =>
      h(
        "button",
        {
          type: "button",
          class: "link",
          lang: code,
          text: name,
          on: { click: () => setLanguage(code) },
        },
      ),
    );
  return h("nav", { class: "languages", "aria-label": t("Language") }, links);
}

// The compact switch for the widget's bar: "DE" or "EN".
export function languageToggle() {
  const [code, name] = Object.entries(config.languages).find(([c]) => c !== lang) || [];
  if (!code) return null;
  return h("button", {
    type: "button",
    class: "icon-btn lang-btn",
    lang: code,
    "aria-label": name,
    title: name,
    text: code.toUpperCase(),
    on: { click: () => setLanguage(code) },
  });
}

export function settingsView(root, { store }) {
  const { header } = bar({ title: t("Settings"), back: "#/" });
  const choices = Object.entries(config.languages).map(([code, name]) => {
    const input = h("input", {
      type: "radio",
      name: "lang",
      value: code,
      id: `lang-${code}`,
      checked: code === lang,
      on: { change: () => setLanguage(code) },
    });
    const label = h("label", { for: `lang-${code}`, lang: code, text: name });
    return h("div", { class: "radio" }, input, label);
  });
  const out = h("button", {
    type: "button",
    class: "secondary wide",
    text: t("Sign out"),
    on: {
      click: async () => {
        try {
          await signOut();
        } catch {
          // offline: the local session is forgotten all the same
        }
        store.signedOut();
        go(isWidget ? "/" : "/signin", { replace: true });
      },
    },
  });
  root.append(
    header,
    h(
      "main",
      { class: "page" },
      h(
        "section",
        { class: "card" },
        h("fieldset", { class: "choices" }, h("legend", { text: t("Language") }), choices),
      ),
      h(
        "section",
        { class: "card" },
        h("p", { text: t("Signed in as {name}.", { name: store.me?.name || "" }) }),
        out,
      ),
    ),
  );
}
