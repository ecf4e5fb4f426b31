// My account: language, presence, the sessions signed in with my account (each can be
// ended), and the second factor (TOTP): set up with an authenticator app, recovery codes
// shown once, turned off with the password.
import { ApiError, get, post, request } from "../messenger/api.js";
import { announce, h } from "../messenger/dom.js";
import { t } from "../messenger/i18n.js";
import { messageFor } from "../errors.js";
import { PRESENCES, dateTime, presenceName } from "../format.js";
import { qrSvg } from "../qr.js";
import { errorLine, field, run, uid } from "./form.js";
import { languageSwitch } from "./signin.js";
import { fill } from "../fill.js";

// "Chrome on Linux" from a user agent string, or the string itself shortened
export function deviceName(agent) {
  if (!agent) return t("Unknown device");
  const browser =
    (/Edg\//.test(agent) && "Edge") ||
    (/Firefox\//.test(agent) && "Firefox") ||
    (/(Chrome|Chromium)\//.test(agent) && "Chrome") ||
    (/Safari\//.test(agent) && "Safari") ||
    null;
  const system =
    (/Windows/.test(agent) && "Windows") ||
    (/(iPhone|iPad)/.test(agent) && "iOS") ||
    (/Mac OS X/.test(agent) && "macOS") ||
    (/Android/.test(agent) && "Android") ||
    (/Linux/.test(agent) && "Linux") ||
    null;
  if (browser && system) return t("{browser} on {system}", { browser, system });
  return agent.slice(0, 60);
}

function sessionsSection(store) {
  const body = h("tbody");
  const error = errorLine();
  const table = h(
    "table",
    { class: "table" },
    h("caption", { class: "sr-only", text: t("Sessions") }),
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        h("th", { scope: "col", text: t("Device") }),
        h("th", { scope: "col", text: t("Signed in") }),
        h("th", { scope: "col", text: t("Expires") }),
        h("th", { scope: "col", text: t("Action") }),
      ),
    ),
    body,
  );
  async function load() {
    try {
      const sessions = await get("/me/sessions");
      fill(
        body,
        ...sessions.map((s) => {
          const end = s.current
            ? h("span", { class: "tag", text: t("This session") })
            : h("button", {
                type: "button",
                class: "secondary small",
                text: t("End session"),
                "aria-label": t("End the session on {device}, signed in {time}", {
                  device: deviceName(s.user_agent),
                  time: dateTime(s.created_at),
                }),
              });
          if (!s.current) {
            end.addEventListener("click", () =>
              run(
                end,
                error,
                async () => {
                  await request("DELETE", `/me/sessions/${s.id}`);
                  announce(t("The session was ended."));
                  await load();
                },
                messageFor,
              ),
            );
          }
          return h(
            "tr",
            {},
            h("td", { text: deviceName(s.user_agent), title: s.user_agent || "" }),
            h("td", { text: dateTime(s.created_at) }),
            h("td", { text: dateTime(s.expires_at) }),
            h("td", {}, end),
          );
        }),
      );
    } catch (failure) {
      error.show(messageFor(failure));
    }
  }
  load();
  return h(
    "section",
    { class: "panel", "aria-labelledby": "sessions-title" },
    h("h2", { id: "sessions-title", text: t("Sessions") }),
    h("p", {
      class: "hint",
      text: t("Where your account is signed in. End any session you do not recognise."),
    }),
    error.node,
    h("div", { class: "table-wrap" }, table),
  );
}

function recoveryCodes(codes) {
  const list = h(
    "ol",
    { class: "codes" },
    codes.map((c) => h("li", {}, h("code", { text: c }))),
  );
  const copy = h("button", { type: "button", class: "secondary", text: t("Copy the codes") });
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(codes.join("\n"));
      announce(t("Copied."));
      copy.textContent = t("Copied");
    } catch {
      copy.textContent = t("Select and copy them by hand");
    }
  });
  return h(
    "div",
    { class: "recovery", role: "region", "aria-labelledby": "recovery-title" },
    h("h3", { id: "recovery-title", text: t("Your recovery codes") }),
    h("p", {
      text: t(
        "Keep these codes in a safe place. Each one signs you in once if you lose your phone. They are shown only now.",
      ),
    }),
    list,
    copy,
  );
}

function totpSection(store) {
  const box = h("div", { class: "stack" });
  const error = errorLine();
  const enabled = store.me.totp_enabled ?? store.me.second_factor ?? null;

  function start() {
    const begin = h("button", {
      type: "button",
      class: "primary",
      text: t("Set up two-factor authentication"),
    });
    begin.addEventListener("click", () =>
      run(
        begin,
        error,
        async () => {
          try {
            enrol(await post("/me/totp", {}));
          } catch (failure) {
            // it is on already: say so instead of refusing
            if (!(failure instanceof ApiError && failure.code === "conflict")) throw failure;
            store.me.totp_enabled = true;
            draw();
          }
        },
        messageFor,
      ),
    );
    return begin;
  }

  function enrol({ secret, uri }) {
    const code = field({
      label: t("6-digit code from the app"),
      inputmode: "numeric",
      autocomplete: "one-time-code",
      maxlength: 6,
      pattern: "[0-9]{6}",
    });
    code.node.classList.add("narrow");
    const confirm = h("button", { type: "submit", class: "primary", text: t("Turn on") });
    const form = h("form", { class: "stack", novalidate: true }, code.node, confirm);
    const qr = qrSvg(uri);
    const uriId = uid("uri");
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const value = code.control.value.replace(/\s+/g, "");
      if (!/^\d{6}$/.test(value)) {
        error.show(t("Enter the 6-digit code."));
        return;
      }
      run(
        confirm,
        error,
        async () => {
          const done = await post("/me/totp/confirm", { code: value });
          store.me.totp_enabled = true;
          fill(
            box,
            h("p", {
              class: "form-ok",
              role: "status",
              text: t("Two-factor authentication is on."),
            }),
            recoveryCodes(done.recovery_codes || []),
          );
          box.querySelector("h3")?.focus?.();
        },
        messageFor,
      );
    });
    fill(
      box,
      h(
        "ol",
        { class: "steps" },
        h("li", {
          text: t(
            "Open an authenticator app on your phone (for example FreeOTP, Aegis or Google Authenticator).",
          ),
        }),
        h("li", { text: t("Scan the code, or enter the key by hand.") }),
        h("li", { text: t("Enter the 6-digit code the app shows.") }),
      ),
      h(
        "div",
        { class: "enrol" },
        qr
          ? h(
              "figure",
              { class: "qr" },
              qr,
              h("figcaption", { text: t("QR code for your authenticator app") }),
            )
          : null,
        h(
          "div",
          { class: "stack" },
          h(
            "p",
            {},
            h("span", { class: "muted", text: t("Key:") }),
            " ",
            h("code", { class: "secret", text: secret.replace(/(.{4})/g, "$1 ").trim() }),
          ),
          h("label", { for: uriId, text: t("Link for the app (otpauth)") }),
          h("textarea", { id: uriId, class: "uri", readOnly: true, rows: 3, value: uri }),
        ),
      ),
      form,
    );
    code.control.focus();
  }

  function disableForm() {
    const password = field({
      label: t("Your password"),
      type: "password",
      autocomplete: "current-password",
    });
    const off = h("button", {
      type: "submit",
      class: "danger",
      text: t("Turn off two-factor authentication"),
    });
    const form = h("form", { class: "stack inline-form", novalidate: true }, password.node, off);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (!password.control.value) {
        error.show(t("Enter your password to turn it off."));
        return;
      }
      run(
        off,
        error,
        async () => {
          await request("DELETE", "/me/totp", { password: password.control.value });
          store.me.totp_enabled = false;
          announce(t("Two-factor authentication is off."));
          draw();
        },
        messageFor,
      );
    });
    return form;
  }

  function draw() {
    const state = store.me.totp_enabled ?? enabled;
    fill(
      box,
      state === true
        ? h("p", { class: "form-ok", text: t("Two-factor authentication is on.") })
        : state === false
          ? h("p", { text: t("Two-factor authentication is off.") })
          : null,
      state !== true ? start() : null,
      state !== false
        ? h(
            "details",
            { class: "turn-off", open: state === true },
            h("summary", { text: t("Turn off two-factor authentication") }),
            disableForm(),
          )
        : null,
    );
  }
  draw();
  return h(
    "section",
    { class: "panel", "aria-labelledby": "totp-title" },
    h("h2", { id: "totp-title", text: t("Two-factor authentication") }),
    h("p", {
      class: "hint",
      text: t(
        "A code from your phone in addition to the password protects the inbox if your password leaks.",
      ),
    }),
    error.node,
    box,
  );
}

function preferences(store) {
  const presence = field({
    label: t("My status"),
    tag: "select",
    options: PRESENCES.map((p) => [p, presenceName(p)]),
    value: store.myPresence(),
  });
  presence.control.addEventListener("change", () =>
    store.setPresence(presence.control.value).catch(() => {}),
  );
  return h(
    "section",
    { class: "panel", "aria-labelledby": "prefs-title" },
    h("h2", { id: "prefs-title", text: t("Profile") }),
    h(
      "dl",
      { class: "facts wide" },
      h("dt", { text: t("Name") }),
      h("dd", { text: store.me.name }),
      h("dt", { text: t("Company") }),
      h("dd", { text: store.company.name }),
    ),
    h("div", { class: "row" }, presence.node, languageSwitch()),
  );
}

export function accountPage(root, { store }) {
  root.append(
    h(
      "div",
      { class: "page-inner" },
      h("h1", { tabindex: "-1", text: t("My account") }),
      preferences(store),
      sessionsSection(store),
      totpSection(store),
    ),
  );
}
