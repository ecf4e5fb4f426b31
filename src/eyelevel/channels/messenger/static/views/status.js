// How a conversation's status reads to the customer.
import { h } from "../dom.js";
import { t } from "../i18n.js";

export function statusText(status) {
  if (status === "pending") return t("Waiting for you");
  if (status === "resolved") return t("Resolved");
  return t("Open");
}

export function statusChip(status) {
  const kind = status === "pending" ? "waiting" : status === "resolved" ? "resolved" : "open";
  return h("span", { class: `chip chip-${kind}`, text: statusText(status) });
}
