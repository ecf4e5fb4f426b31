// Language, notifications on this device, my details, consent history, downloading my data,
// deleting my account, signing out.
import { config, isWidget } from "../config.js";
import { h } from "../dom.js";
import { lang, setLanguage, t } from "../i18n.js";
import { go } from "../router.js";
import { forgetSession, signOut } from "../session.js";
import { bar } from "./bar.js";
import { ApiError, authHeaders, get, hasBearer, post, put } from "../api.js";
import { messageFor } from "../errors.js";
import { fullDate } from "../time.js";
import { busy, errorLine, field } from "./form.js";
import { CONTACT_NAMES } from "./contact.js";
import { notificationsCard } from "./notifications.js";
import { FIELD_NAMES } from "./privacy.js";

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
      isWidget ? null : notificationsCard(),
      profileCard(),
      ledgerCard(),
      exportCard(),
      h(
        "section",
        { class: "card" },
        h("p", { text: t("Signed in as {name}.", { name: store.me?.name || "" }) }),
        out,
      ),
      deleteCard(store),
    ),
  );
}

// Delete my account: irreversible, confirmed with the password (a website visitor has none).
// Says plainly what goes and what a company may keep (docs/privacy.md, Erasure).
function deleteCard(store) {
  const visitor = Boolean(store.me?.anonymous);
  const password = visitor
    ? null
    : field({
        label: t("Your password"),
        type: "password",
        autocomplete: "current-password",
        required: true,
      });
  const understood = h("input", { type: "checkbox", id: "erase-understood", required: true });
  const error = errorLine();
  const submit = h("button", {
    type: "submit",
    class: "button danger",
    text: t("Delete my account permanently"),
  });
  const form = h(
    "form",
    {
      id: "delete-account",
      on: {
        submit: async (event) => {
          event.preventDefault();
          error.show("");
          busy(submit, true);
          try {
            await post("/me/erasure", password ? { password: password.control.value } : {});
          } catch (e) {
            busy(submit, false);
            const wrong = e instanceof ApiError && e.code === "invalid_credentials";
            error.show(wrong ? t("The password is wrong.") : messageFor(e));
            return;
          }
          await forgetSession().catch(() => {});
          store.signedOut();
          go(isWidget ? "/" : "/signin", { replace: true });
        },
      },
    },
    h("h3", { text: t("Delete my account") }),
    h("p", {
      text: t(
        "Your account, your details, your customer numbers, what you share, your data downloads and all your conversations with every company are deleted, with their messages and files. This cannot be undone.",
      ),
    }),
    h("p", {
      class: "muted",
      text: t(
        "A company may keep a conversation it must keep by law (a legal hold): it is then hidden from its team and deleted when the hold ends. Your consent history stays, without your name or any of your details. Companies are told that you deleted your account.",
      ),
    }),
    password ? password.node : null,
    h(
      "div",
      { class: "check" },
      understood,
      h("label", { for: "erase-understood", text: t("I understand that this cannot be undone.") }),
    ),
    error.node,
    submit,
  );
  return h("section", { class: "card danger-zone" }, form);
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

function ledgerLine(entry) {
  const name = FIELD_NAMES[entry.field];
  const contact = CONTACT_NAMES[entry.field];
  const vars = {
    when: fullDate(entry.created_at),
    company: entry.company?.name || "?",
    field: name ? name() : contact ? contact() : entry.field,
  };
  if (contact && entry.action === "grant") return t("{when}: {company} — {field} on", vars);
  if (contact) return t("{when}: {company} — {field} off", vars);
  if (entry.action === "grant") return t("{when}: {company} — {field} shared", vars);
  return t("{when}: {company} — {field} no longer shared", vars);
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
          ? entries.map((e) => h("li", { text: ledgerLine(e) }))
          : [h("li", { class: "muted", text: t("Nothing shared yet.") })]),
      );
    })
    .catch((e) => list.replaceChildren(h("li", { role: "alert", text: messageFor(e) })));
  return node;
}

// Download my data: a ZIP of everything, made by the server in the background and kept for
// 24 hours. While it is being prepared, the state is asked for again every few seconds.
const EXPORT_ERRORS = {
  export_pending: () => t("Your data is already being prepared."),
  export_limit: () => t("You can request your data three times a day. Please try again tomorrow."),
  export_expired: () => t("This download has expired. Please request your data again."),
  export_not_ready: () => t("Your data is not ready yet."),
};

function exportMessage(e) {
  return e instanceof ApiError && EXPORT_ERRORS[e.code] ? EXPORT_ERRORS[e.code]() : messageFor(e);
}

function megabytes(size) {
  return (Math.max(size, 1) / (1024 * 1024)).toFixed(1).replace(".", lang === "de" ? "," : ".");
}

function exportCard() {
  const state = h("div", { class: "export-state", role: "status" });
  const error = errorLine();
  const request = h("button", {
    type: "button",
    class: "button secondary",
    text: t("Request my data"),
    on: {
      click: async () => {
        error.show("");
        busy(request, true);
        try {
          await post("/me/exports");
          await refresh();
        } catch (e) {
          error.show(exportMessage(e));
        } finally {
          busy(request, false);
        }
      },
    },
  });
  const node = h(
    "section",
    { class: "card", id: "my-data" },
    h("h3", { text: t("Download my data") }),
    h("p", {
      class: "muted",
      text: t(
        "A ZIP file with your account, your details, all your conversations with every company, your files and your consent history. It is prepared in the background and can be downloaded for 24 hours.",
      ),
    }),
    state,
    error.node,
    request,
  );
  let timer = null;

  function downloadLink(item) {
    const href = `/api/v1/me/exports/${item.id}/download`;
    const filename = `eyelevel-export-${item.id}.zip`;
    const link = h("a", {
      href,
      download: filename,
      class: "button primary",
      text: t("Download ZIP ({size} MB)", { size: megabytes(item.size) }),
    });
    if (hasBearer()) {
      // the widget signs in with a bearer token, which a plain link would not send
      link.addEventListener("click", async (event) => {
        event.preventDefault();
        error.show("");
        try {
          const response = await fetch(href, { headers: authHeaders("GET"), credentials: "omit" });
          if (!response.ok) {
            throw new ApiError(response.status, await response.json().catch(() => null));
          }
          const url = URL.createObjectURL(await response.blob());
          const save = h("a", { href: url, download: filename });
          document.body.append(save);
          save.click();
          save.remove();
          setTimeout(() => URL.revokeObjectURL(url), 60000);
        } catch (e) {
          error.show(exportMessage(e));
          refresh();
        }
      });
    }
    return link;
  }

  function show(items) {
    clearTimeout(timer);
    const latest = items[0];
    request.hidden = false;
    if (!latest) {
      state.replaceChildren();
    } else if (latest.state === "pending") {
      request.hidden = true;
      state.replaceChildren(
        h("p", {
          text: t("Your data is being prepared (requested {when}). This can take a few minutes.", {
            when: fullDate(latest.created_at),
          }),
        }),
      );
      timer = setTimeout(() => node.isConnected && refresh(), 3000);
    } else if (latest.state === "ready") {
      state.replaceChildren(
        h("p", {}, downloadLink(latest)),
        h("p", {
          class: "hint",
          text: t("Ready since {ready}. You can download it until {until}.", {
            ready: fullDate(latest.ready_at),
            until: fullDate(latest.expires_at),
          }),
        }),
      );
    } else if (latest.state === "failed") {
      state.replaceChildren(
        h("p", { role: "alert", text: t("Preparing your data failed. Please request it again.") }),
      );
    } else {
      state.replaceChildren(
        h("p", {
          class: "hint",
          text: t("Your last download expired on {when}.", { when: fullDate(latest.expires_at) }),
        }),
      );
    }
  }

  async function refresh() {
    try {
      show(await get("/me/exports"));
    } catch (e) {
      error.show(exportMessage(e));
    }
  }

  refresh();
  return node;
}
