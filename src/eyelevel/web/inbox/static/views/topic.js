// A conversation's topic, changeable by its agents (PUT /conversations/{id}/topic). Without an
// agent owning it, the server routes it again by the new topic (docs/routing.md).
import { request } from "../messenger/api.js";
import { announce, h } from "../messenger/dom.js";
import { t } from "../messenger/i18n.js";
import { messageFor } from "../errors.js";
import { uid } from "./form.js";

export function topicName(store, id) {
  if (!id) return null;
  return store.topic(id)?.name || t("Topic #{id}", { id });
}

// A select with "No topic", the active topics and, when the conversation has an inactive
// one, that too; read-only text when nothing may change.
export function topicSelect(store, conversation, { onError, readOnly = false }) {
  const current = conversation.topic_id || null;
  if (readOnly) return topicName(store, current) || t("None");
  const id = uid("topic");
  const choices = store.topics.filter((topic) => topic.active || topic.id === current);
  const select = h(
    "select",
    { id, class: "topic-select", "aria-label": t("Topic of this conversation") },
    h("option", { value: "", text: t("No topic") }),
    choices.map((topic) =>
      h("option", {
        value: String(topic.id),
        text: topic.active ? topic.name : t("{name} (inactive)", { name: topic.name }),
      }),
    ),
  );
  select.value = current ? String(current) : "";
  select.addEventListener("change", async () => {
    const chosen = select.value ? Number(select.value) : null;
    select.disabled = true;
    try {
      const updated = await request("PUT", `/conversations/${conversation.id}/topic`, {
        topic_id: chosen,
      });
      const merged = store.upsert(updated);
      store.emit("conversation", { id: merged.id, conversation: merged });
      store.refreshCounts();
      announce(
        chosen
          ? t("Topic set to {name}.", { name: topicName(store, chosen) })
          : t("Topic removed."),
      );
    } catch (error) {
      select.value = current ? String(current) : "";
      onError(messageFor(error));
    } finally {
      select.disabled = false;
    }
  });
  return select;
}

// "Rule “Billing”", or why there is none (by hand or by the default team)
export function routedBy(store, conversation) {
  const ruleId = conversation.routing_rule_id;
  if (!ruleId) return null;
  const rule = store.rule(ruleId);
  return rule
    ? t("Rule “{name}”", { name: rule.name })
    : t("A rule that was deleted since");
}
