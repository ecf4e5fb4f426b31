// Language and signing out.
import { config, isWidget } from "../config.js";
import { h } from "../dom.js";
import { lang, setLanguage, t } from "../i18n.js";
import { go } from "../router.js";
import { signOut } from "../session.js";
import { bar } from "./bar.js";
import { get } from "../api.js";
import { messageFor } from "../errors.js";
import { fullDate, timeOfDay } from "../time.js";
import { busy, errorLine, field } from "./form.js";
import { FIELD_NAMES, put } from "./privacy.js";

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
      profileCard(),
      ledgerCard(),
      h(
        "section",
        { class: "card" },
        h("p", { text: t("Signed in as {name}.", { name: store.me?.name || "" }) }),
        out,
      ),
    ),
  );
}

// My details: what I may share with companies (each company sees them only when I switch a
// field on in its privacy card).
function profileCard() {
  const node = h("section", { class: "card" }, h("p", { class: "muted", text: t("Loading…") }));
  const inputs = {
    first_name: field({ label: t("First name"), autocomplete: "given-name" }),
    last_name: field({ label: t("Last name"), autocomplete: "family-name" }),
    phone: field({ label: t("Phone number"), type: "tel", autocomplete: "tel" }),
  };
  const address = h("textarea", { id: "profile-address", rows: 3, autocomplete: "street-address" });
  const error = errorLine();
  const saved = h("p", { class: "hint", role: "status" });
  const save = h("button", { type: "submit", class: "button primary", text: t("Save") });
  const form = h(
    "form",
    {
      on: {
        submit: async (event) => {
          event.preventDefault();
          error.show("");
          saved.textContent = "";
          busy(save, true);
          try {
            const body = { address: address.value };
            for (const [key, f] of Object.entries(inputs)) body[key] = f.control.value;
            fill(await put("/me/profile", body));
            saved.textContent = t("Saved.");
          } catch (e) {
            error.show(messageFor(e));
          } finally {
            busy(save, false);
          }
        },
      },
    },
    h("h3", { text: t("My details") }),
    h("p", {
      class: "muted",
      text: t("Companies see these only where you switch them on, in each company's card."),
    }),
    ...Object.values(inputs).map((f) => f.node),
    h(
      "div",
      { class: "field" },
      h("label", { for: "profile-address", text: t("Postal address") }),
      address,
    ),
    error.node,
    save,
    saved,
  );

  function fill(profile) {
    for (const [key, f] of Object.entries(inputs)) f.control.value = profile[key] || "";
    address.value = profile.address || "";
  }

  get("/me/profile")
    .then((profile) => {
      fill(profile);
      node.replaceChildren(form);
    })
    .catch((e) => node.replaceChildren(h("p", { role: "alert", text: messageFor(e) })));
  return node;
}

// Every grant and revocation, newest first: the record cannot be changed, by anyone.
function ledgerCard() {
  const list = h("ol", { class: "ledger" });
  const node = h(
    "section",
    { class: "card" },
    h("h3", { text: t("Consent history") }),
    h("p", {
      class: "muted",
      text: t("Every time you shared or stopped sharing something. Nobody can change this record."),
    }),
    list,
  );
  get("/me/consents")
    .then((entries) => {
      list.replaceChildren(
        ...(entries.length
          ? entries.map((e) =>
              h("li", {
                text: t("{when}: {company} — {field} {action}", {
                  when: `${fullDate(e.created_at)} ${timeOfDay(e.created_at)}`,
                  company: e.company?.name || "?",
                  field: (FIELD_NAMES[e.field] || (() => e.field))(),
                  action: e.action === "grant" ? t("shared") : t("no longer shared"),
                }),
              }),
            )
          : [h("li", { class: "muted", text: t("Nothing shared yet.") })]),
      );
    })
    .catch((e) => list.replaceChildren(h("li", { role: "alert", text: messageFor(e) })));
  return node;
}
