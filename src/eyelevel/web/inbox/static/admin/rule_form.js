// The dialog that adds or changes a routing rule: its name, the team it sends to, and its
// conditions (all must hold; an empty one holds always). docs/routing.md has the semantics.
import { ApiError, post } from "../messenger/api.js";
import { h } from "../messenger/dom.js";
import { t } from "../messenger/i18n.js";
import { patch } from "../api.js";
import { messageFor } from "../errors.js";
import { modal } from "../views/dialog.js";
import { errorLine, field, run, uid } from "../views/form.js";

const MAX_NAME = 100;

export function channelName(channel) {
  return (
    {
      messenger: () => t("Messenger"),
      widget: () => t("Website widget"),
      email: () => t("Email"),
      api: () => t("API"),
    }[channel] || (() => channel)
  )();
}

export const CHANNELS = ["messenger", "widget", "email", "api"];

function checks(legend, items, chosen) {
  const boxes = items.map(([value, text]) => {
    const id = uid("rc");
    const box = h("input", { type: "checkbox", id, value: String(value) });
    box.checked = chosen.includes(value);
    return { value, box, node: h("div", { class: "check" }, box, h("label", { for: id, text })) };
  });
  return {
    node: h(
      "fieldset",
      {},
      h("legend", { text: legend }),
      items.length
        ? h("div", { class: "choice-row" }, boxes.map((b) => b.node))
        : h("p", { class: "muted", text: t("No topics yet.") }),
      h("p", { class: "hint", text: t("None ticked: any.") }),
    ),
    values: () => boxes.filter((b) => b.box.checked).map((b) => b.value),
    focus: () => boxes[0]?.box.focus(),
  };
}

function split(text, pattern) {
  return text
    .split(pattern)
    .map((part) => part.trim())
    .filter(Boolean);
}

// Resolves with the saved rule, or null when cancelled.
export function ruleDialog(store, rule = null) {
  const title = rule ? t("Edit routing rule") : t("New routing rule");
  return modal(
    title,
    (finish) => {
      const c = rule?.conditions || {};
      const name = field({
        label: t("Name"),
        maxlength: MAX_NAME,
        required: true,
        autofocus: true,
        value: rule?.name || "",
      });
      const team = field({
        label: t("Send to team"),
        tag: "select",
        required: true,
        options: [
          ["", t("Choose a team")],
          ...store.teams.map((team) => [String(team.id), team.name]),
        ],
        value: rule ? String(rule.team_id) : "",
      });
      const channels = checks(
        t("Channels"),
        CHANNELS.map((ch) => [ch, channelName(ch)]),
        c.channels || [],
      );
      const topics = checks(
        t("Topics"),
        store.topics
          .filter((topic) => topic.active || (c.topic_ids || []).includes(topic.id))
          .map((topic) => [
            topic.id,
            topic.active ? topic.name : t("{name} (inactive)", { name: topic.name }),
          ]),
        c.topic_ids || [],
      );
      const keywords = field({
        label: t("Keywords"),
        tag: "textarea",
        rows: 3,
        value: (c.keywords || []).join("\n"),
        hint: t(
          "One per line. A keyword matches whole words in the first message, ignoring case. Empty: any text.",
        ),
      });
      const languages = field({
        label: t("Languages"),
        value: (c.languages || []).join(", "),
        placeholder: "de, en",
        hint: t("Language codes of the customer's messenger, separated by commas. Empty: any."),
      });
      const hours = field({
        label: t("Time"),
        tag: "select",
        options: [
          ["", t("Any time")],
          ["open", t("Within business hours")],
          ["closed", t("Outside business hours")],
        ],
        value: c.business_hours || "",
      });
      const enabledId = uid("en");
      const enabled = h("input", { type: "checkbox", role: "switch", class: "switch", id: enabledId });
      enabled.checked = rule ? rule.enabled : true;
      const error = errorLine();
      const submit = h("button", {
        type: "submit",
        class: "primary",
        text: rule ? t("Save rule") : t("Add rule"),
      });
      const form = h(
        "form",
        { class: "stack", method: "dialog", novalidate: true },
        name.node,
        team.node,
        h(
          "div",
          { class: "switch-row" },
          enabled,
          h("label", { for: enabledId, text: t("Rule enabled") }),
        ),
        h("p", {
          class: "hint",
          text: t("The rule applies when all of its conditions hold."),
        }),
        channels.node,
        topics.node,
        keywords.node,
        languages.node,
        hours.node,
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
      // where to put the keyboard when the server refuses a field
      const controls = {
        name: name.control,
        team_id: team.control,
        "conditions.keywords": keywords.control,
        "conditions.languages": languages.control,
        "conditions.business_hours": hours.control,
      };
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        if (!name.control.value.trim()) {
          error.show(t("Please enter a name."));
          name.control.focus();
          return;
        }
        if (!team.control.value) {
          error.show(t("Choose the team the rule sends conversations to."));
          team.control.focus();
          return;
        }
        const body = {
          name: name.control.value.trim(),
          team_id: Number(team.control.value),
          enabled: enabled.checked,
          conditions: {
            channels: channels.values(),
            topic_ids: topics.values(),
            keywords: split(keywords.control.value, /\n/),
            languages: split(languages.control.value, /[,\s]+/).map((l) => l.toLowerCase()),
            business_hours: hours.control.value || null,
          },
        };
        run(
          submit,
          error,
          async () => {
            const base = `/companies/${store.slug}/routing-rules`;
            const saved = rule
              ? await patch(`${base}/${rule.id}`, body)
              : await post(base, body);
            finish(saved);
          },
          (failure) => {
            if (failure instanceof ApiError) controls[failure.field]?.focus();
            return messageFor(failure);
          },
        );
      });
      return form;
    },
    { className: "rule-dialog" },
  );
}
