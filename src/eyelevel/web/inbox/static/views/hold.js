// Legal hold (docs/privacy.md, *Erasure*): a lead or admin keeps a conversation with a reason;
// it then survives retention and its customer's erasure (restricted: admins only, read-only).
import { request } from "../messenger/api.js";
import { announce, h } from "../messenger/dom.js";
import { t } from "../messenger/i18n.js";
import { messageFor } from "../errors.js";
import { icon } from "../icons.js";
import { confirmDialog, modal } from "./dialog.js";
import { errorLine, field, run } from "./form.js";

const MAX_REASON = 1000;

// The badge a held conversation wears (list and header); its title is the reason.
export function holdBadge(hold, { small = false } = {}) {
  return h(
    "span",
    {
      class: `badge badge-hold${small ? " small" : ""}`,
      title: hold.reason ? t("Legal hold: {reason}", { reason: hold.reason }) : null,
    },
    icon("shield"),
    h("span", { text: t("Legal hold") }),
  );
}

// Asks for the reason and puts the hold; resolves with the hold, or null when cancelled.
export function putHoldDialog(store, conversationId, current = null) {
  return modal(t("Put under legal hold"), (finish) => {
    const reason = field({
      label: t("Reason"),
      tag: "textarea",
      rows: 3,
      maxlength: MAX_REASON,
      required: true,
      autofocus: true,
      value: current?.reason || "",
      hint: t(
        "Leads and admins see it; it is kept in the audit log. While held, the conversation is not deleted by retention or when the customer deletes their account.",
      ),
    });
    const error = errorLine();
    const submit = h("button", { type: "submit", class: "primary", text: t("Put on hold") });
    const form = h(
      "form",
      { class: "stack", method: "dialog", novalidate: true },
      reason.node,
      error.node,
      h(
        "div",
        { class: "dialog-actions" },
        h("button", {
          type: "button",
          class: "secondary",
          text: t("Cancel"),
          on: { click: () => finish(null) },
        }),
        submit,
      ),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = reason.control.value.trim();
      if (!text) {
        error.show(t("Please give a reason."));
        reason.control.focus();
        return;
      }
      run(
        submit,
        error,
        async () => {
          const hold = await request("PUT", `/conversations/${conversationId}/legal-hold`, {
            reason: text,
          });
          store.setHold(conversationId, hold);
          announce(t("The conversation is under legal hold."));
          finish(hold);
        },
        messageFor,
      );
    });
    return form;
  });
}

// Asks first; a restricted conversation (its customer deleted their account) is deleted then.
export async function liftHold(store, conversation, { onError }) {
  const restricted = Boolean(conversation.customer?.erased);
  const sure = await confirmDialog(
    t("Lift the legal hold?"),
    restricted
      ? t(
          "The customer has deleted their account: lifting the hold deletes this conversation at once, for good.",
        )
      : t(
          "Retention and a deletion of the customer's account apply to this conversation again.",
        ),
    restricted ? t("Lift and delete") : t("Lift legal hold"),
    { danger: restricted },
  );
  if (!sure) return false;
  try {
    const lifted = await request("DELETE", `/conversations/${conversation.id}/legal-hold`);
    store.setHold(conversation.id, null);
    if (lifted?.erased) {
      store.forget(conversation.id);
      announce(t("Legal hold lifted; the conversation was deleted."));
    } else {
      announce(t("Legal hold lifted."));
    }
    return true;
  } catch (error) {
    onError(messageFor(error));
    return false;
  }
}
