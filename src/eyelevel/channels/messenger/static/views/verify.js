// While a new account has not confirmed its email address: say so, and how to go on.
import { h } from "../dom.js";
import { t } from "../i18n.js";
import { fetchMe } from "../session.js";

export function needsVerification(me) {
  return Boolean(me && me.kind === "customer" && !me.email_verified && !me.anonymous);
}

export function verifyNotice(store) {
  const check = h("button", {
    type: "button",
    class: "secondary",
    text: t("I have confirmed it"),
  });
  const result = h("p", { class: "hint", role: "status" });
  check.addEventListener("click", async () => {
    try {
      const me = await fetchMe();
      if (me && me.email_verified) {
        store.me = me;
        store.emit("me");
      } else {
        result.textContent = t("Not confirmed yet. Please open the link in the mail we sent you.");
      }
    } catch {
      result.textContent = t("You are offline. Please try again when you are back online.");
    }
  });
  return h(
    "section",
    { class: "notice", "aria-labelledby": "verify-title" },
    h("h2", { id: "verify-title", text: t("Check your mail") }),
    h("p", {
      text: t(
        "We sent you a link to confirm your email address. Once you have opened it, you can start conversations. No mail? Look in your spam folder.",
      ),
    }),
    check,
    result,
  );
}
