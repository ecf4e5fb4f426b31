// Sign in with email and password; an agent with a second factor is then asked for the
// 6-digit code from the authenticator app, or one of the recovery codes.
import { ApiError, post, request } from "../messenger/api.js";
import { h } from "../messenger/dom.js";
import { setLanguage, t, lang } from "../messenger/i18n.js";
import { config } from "../messenger/config.js";
import { messageFor } from "../errors.js";
import { busy, errorLine, field } from "./form.js";

export function languageSwitch() {
  const select = field({
    label: t("Language"),
    tag: "select",
    options: Object.entries(config.languages),
    value: lang,
  });
  select.control.addEventListener("change", () => setLanguage(select.control.value));
  select.node.classList.add("language");
  return select.node;
}

export function signInView(root, { onSignedIn }) {
  const heading = h("h1", { tabindex: "-1", text: t("Sign in to the inbox") });
  const email = field({
    label: t("Email address"),
    type: "email",
    autocomplete: "username",
    required: true,
  });
  const password = field({
    label: t("Password"),
    type: "password",
    autocomplete: "current-password",
    required: true,
  });
  const code = field({
    label: t("Code from your authenticator app or a recovery code"),
    autocomplete: "one-time-code",
    inputmode: "text",
    maxlength: 40,
    hint: t("Open your authenticator app and enter the 6-digit code shown for eyelevel."),
  });
  code.node.hidden = true;
  const error = errorLine();
  const submit = h("button", { class: "primary wide", type: "submit", text: t("Sign in") });
  const form = h(
    "form",
    { novalidate: true, class: "stack" },
    email.node,
    password.node,
    code.node,
    error.node,
    submit,
  );
  let second = false;

  function askForCode() {
    second = true;
    code.node.hidden = false;
    email.control.readOnly = true;
    password.node.hidden = true;
    submit.textContent = t("Confirm");
    heading.textContent = t("Second step: your code");
    code.control.focus();
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = {
      kind: "agent",
      email: email.control.value.trim(),
      password: password.control.value,
    };
    if (!body.email || !body.password) {
      error.show(t("Please enter your email address and password."));
      return;
    }
    if (second) {
      const otp = code.control.value.replace(/\s+/g, "");
      if (!otp) {
        error.show(t("Enter the code from your authenticator app."));
        return;
      }
      body.otp = otp;
    }
    busy(submit, true);
    error.show("");
    try {
      await post("/auth/login", body);
      // signing in is saying "I am here": colleagues see me online at once
      await request("PUT", "/me/presence", { presence: "online" }).catch(() => {});
      await onSignedIn();
    } catch (failure) {
      busy(submit, false);
      if (failure instanceof ApiError && failure.code === "second_factor_required" && !second) {
        askForCode();
        return;
      }
      error.show(messageFor(failure));
      if (second) {
        code.control.select();
      }
    }
  });

  root.append(
    h(
      "main",
      { class: "signin" },
      h(
        "div",
        { class: "brand" },
        h("img", { src: "/icons/icon.svg", alt: "", width: 44, height: 44 }),
        h("p", { class: "brand-name", text: "eyelevel" }),
        h("p", { class: "brand-claim", text: t("The inbox for your team") }),
      ),
      h("section", { class: "card signin-card" }, heading, form),
      languageSwitch(),
    ),
  );
  email.control.focus();
}
