// Sign in and sign up (the messenger at /). A new account can read at once and write once it
// has confirmed its email address.
import { h } from "../dom.js";
import { messageFor } from "../errors.js";
import { t } from "../i18n.js";
import { go } from "../router.js";
import { clearCaches, signIn, signUp } from "../session.js";
import { busy, errorLine, field } from "./form.js";
import { languageSwitch } from "./settings.js";

function brand() {
  return h(
    "div",
    { class: "brand" },
    h("img", { src: "/icons/icon.svg", alt: "", width: 56, height: 56 }),
    h("p", { class: "brand-name", text: "eyelevel" }),
    h("p", { class: "brand-claim", text: t("Write to companies the way you write to friends.") }),
  );
}

function page(root, title, form, footer) {
  const heading = h("h1", { tabindex: "-1", text: title });
  root.append(
    h(
      "main",
      { class: "auth" },
      brand(),
      h("section", { class: "card auth-card" }, heading, form),
      footer,
      languageSwitch(),
    ),
  );
}

export function signInView(root, { store }) {
  const email = field({
    label: t("Email address"),
    type: "email",
    autocomplete: "email",
    required: true,
  });
  const password = field({
    label: t("Password"),
    type: "password",
    autocomplete: "current-password",
    required: true,
  });
  const error = errorLine();
  const submit = h("button", { class: "primary wide", type: "submit", text: t("Sign in") });
  const form = h("form", { novalidate: true }, email.node, password.node, error.node, submit);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!email.control.value.trim() || !password.control.value) {
      error.show(t("Please enter your email address and password."));
      return;
    }
    busy(submit, true);
    error.show("");
    try {
      await clearCaches();
      const me = await signIn(email.control.value.trim(), password.control.value);
      store.signedIn(me);
      go("/", { replace: true });
    } catch (failure) {
      error.show(messageFor(failure));
      busy(submit, false);
    }
  });
  page(
    root,
    t("Sign in"),
    form,
    h(
      "p",
      { class: "switch" },
      t("New here?"),
      " ",
      h("a", { href: "#/signup", text: t("Create an account") }),
    ),
  );
}

export function signUpView(root, { store }) {
  const name = field({ label: t("Your name"), autocomplete: "name", required: true, maxlength: 100 });
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
    minlength: 10,
    hint: t("At least 10 characters."),
  });
  const error = errorLine();
  const submit = h("button", { class: "primary wide", type: "submit", text: t("Create account") });
  const form = h("form", { novalidate: true }, name.node, email.node, password.node, error.node, submit);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!name.control.value.trim()) return error.show(t("Please enter your name."));
    if (!email.control.value.includes("@")) return error.show(t("Please enter a valid email address."));
    if (password.control.value.length < 10) {
      return error.show(t("The password needs at least 10 characters."));
    }
    busy(submit, true);
    error.show("");
    try {
      await clearCaches();
      const me = await signUp(
        name.control.value.trim(),
        email.control.value.trim(),
        password.control.value,
      );
      store.signedIn(me);
      go("/", { replace: true });
    } catch (failure) {
      error.show(messageFor(failure));
      busy(submit, false);
    }
    return undefined;
  });
  page(
    root,
    t("Create an account"),
    form,
    h(
      "p",
      { class: "switch" },
      t("Already have an account?"),
      " ",
      h("a", { href: "#/signin", text: t("Sign in") }),
    ),
  );
}
