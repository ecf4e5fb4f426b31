// Routing (docs/routing.md): the ordered rules that put a new conversation into a team (the
// first enabled rule whose conditions all hold wins), and the default team for the rest.
import { announce, h } from "../messenger/dom.js";
import { t } from "../messenger/i18n.js";
import { del, patch, put } from "../api.js";
import { messageFor } from "../errors.js";
import { confirmDialog } from "../views/dialog.js";
import { errorLine, field, keepFocus, run, uid } from "../views/form.js";
import { fill } from "../fill.js";
import { channelName, ruleDialog } from "./rule_form.js";
import { moveButton, moved } from "./topics.js";

function condition(term, value) {
  return h("span", { class: "condition" }, h("b", { text: `${term}:` }), value);
}

// the rule's conditions as short chips; none at all: it matches everything
function conditions(store, c) {
  const chips = [];
  if (c.channels.length) chips.push(condition(t("Channel"), c.channels.map(channelName).join(", ")));
  if (c.topic_ids.length) {
    const names = c.topic_ids.map((id) => store.topic(id)?.name || t("Topic #{id}", { id }));
    chips.push(condition(t("Topic"), names.join(", ")));
  }
  if (c.keywords.length) {
    chips.push(condition(t("Keywords"), c.keywords.join(", ")));
  }
  if (c.languages.length) chips.push(condition(t("Language"), c.languages.join(", ")));
  if (c.business_hours === "open") chips.push(condition(t("Time"), t("Within business hours")));
  if (c.business_hours === "closed") chips.push(condition(t("Time"), t("Outside business hours")));
  if (!chips.length) chips.push(h("span", { class: "condition", text: t("Every conversation") }));
  return h("div", { class: "conditions" }, chips);
}

export function routingPage(root, { store }) {
  const base = `/companies/${store.slug}/routing-rules`;

  // -- the default team --------------------------------------------------------------------
  const settingError = errorLine();
  const fallback = field({
    label: t("Default team"),
    tag: "select",
    hint: t("Where a new conversation goes when no rule matches. Without one it stays unassigned."),
  });
  const saveDefault = h("button", { type: "submit", class: "secondary", text: t("Save") });
  const defaults = h("form", { class: "inline-form", novalidate: true }, fallback.node, saveDefault);
  defaults.addEventListener("submit", (event) => {
    event.preventDefault();
    run(
      saveDefault,
      settingError,
      async () => {
        const value = fallback.control.value;
        await put(`/companies/${store.slug}/routing-settings`, {
          topic_required: store.routing.topic_required,
          default_team_id: value ? Number(value) : null,
        });
        await store.loadRules();
        announce(t("Saved."));
      },
      messageFor,
    );
  });

  // -- the rules ---------------------------------------------------------------------------
  const listError = errorLine();
  const list = h("ol", { class: "order-list", "aria-labelledby": "all-rules" });
  const add = h("button", { type: "button", class: "primary", text: t("Add rule") });
  add.addEventListener("click", async () => {
    if (!store.teams.length) {
      listError.show(t("Create a team first: a rule sends conversations to a team."));
      return;
    }
    const saved = await ruleDialog(store);
    if (!saved) return;
    await store.loadRules();
    announce(t("Rule {name} added.", { name: saved.name }));
  });

  const order = (ids, button) =>
    run(
      button,
      listError,
      async () => {
        await put(`${base}/order`, { ids });
        await store.loadRules();
        announce(t("Order saved."));
      },
      messageFor,
    );

  function row(rule, index, all) {
    const enabledId = uid("re");
    const enabled = h("input", {
      type: "checkbox",
      role: "switch",
      class: "switch",
      id: enabledId,
      checked: rule.enabled,
      "aria-label": t("Rule {name} enabled", { name: rule.name }),
      "data-key": `enabled-${rule.id}`,
    });
    enabled.addEventListener("change", () =>
      run(
        enabled,
        listError,
        async () => {
          await patch(`${base}/${rule.id}`, { enabled: enabled.checked });
          await store.loadRules();
          announce(enabled.checked ? t("Rule enabled.") : t("Rule disabled."));
        },
        (failure) => {
          enabled.checked = !enabled.checked;
          return messageFor(failure);
        },
      ),
    );
    const edit = h("button", {
      type: "button",
      class: "secondary small",
      text: t("Edit"),
      "aria-label": t("Edit the rule {name}", { name: rule.name }),
      "data-key": `edit-${rule.id}`,
    });
    edit.addEventListener("click", async () => {
      const saved = await ruleDialog(store, rule);
      if (!saved) return;
      await store.loadRules();
      announce(t("Saved."));
    });
    const remove = h("button", {
      type: "button",
      class: "danger-link",
      text: t("Delete"),
      "aria-label": t("Delete the rule {name}", { name: rule.name }),
    });
    remove.addEventListener("click", async () => {
      const sure = await confirmDialog(
        t("Delete the rule {name}?", { name: rule.name }),
        t("Conversations it routed keep their team."),
        t("Delete"),
        { danger: true },
      );
      if (!sure) return;
      run(
        remove,
        listError,
        async () => {
          await del(`${base}/${rule.id}`);
          await store.loadRules();
          announce(t("Rule deleted."));
        },
        messageFor,
      );
    });
    const up = moveButton(-1, rule.name, () => order(moved(all, index, -1), up), index === 0);
    const down = moveButton(
      1,
      rule.name,
      () => order(moved(all, index, 1), down),
      index === all.length - 1,
    );
    const team = store.team(rule.team_id)?.name || t("A team");
    return h(
      "li",
      { class: `order-item${rule.enabled ? "" : " inactive"}`, "data-rule": rule.id },
      h("span", { class: "order-pos", "aria-hidden": "true", text: String(index + 1) }),
      h(
        "div",
        { class: "order-main" },
        h("span", { class: "order-name", text: rule.name }),
        conditions(store, rule.conditions),
      ),
      h("span", { class: "rule-target", text: t("→ {team}", { team }) }),
      h(
        "div",
        { class: "order-tools" },
        h(
          "span",
          { class: "switch-row" },
          enabled,
          h("label", { for: enabledId, text: t("Enabled") }),
        ),
        edit,
        up,
        down,
        remove,
      ),
    );
  }

  function draw() {
    fill(
      fallback.control,
      h("option", { value: "", text: t("None (unassigned)") }),
      store.teams.map((team) => h("option", { value: String(team.id), text: team.name })),
    );
    fallback.control.value = store.routing.default_team_id
      ? String(store.routing.default_team_id)
      : "";
    keepFocus(list, () =>
      fill(
        list,
        ...(store.rules.length
          ? store.rules.map((rule, index, all) => row(rule, index, all))
          : [h("li", { class: "muted", text: t("No rules yet: every conversation goes to the default team.") })]),
      ),
    );
  }

  root.append(
    h("h1", { tabindex: "-1", text: t("Routing") }),
    h("p", {
      class: "hint",
      text: t(
        "When a conversation starts, the rules are tried from the top; the first enabled rule whose conditions all hold sends it to its team. A team with auto-assignment (under Teams) then gives it to an available agent.",
      ),
    }),
    h(
      "section",
      { class: "panel", "aria-labelledby": "all-rules" },
      h(
        "div",
        { class: "panel-head spread" },
        h("h2", { id: "all-rules", text: t("Rules in order") }),
        add,
      ),
      listError.node,
      list,
    ),
    h(
      "section",
      { class: "panel", "aria-labelledby": "routing-default" },
      h("h2", { id: "routing-default", text: t("When no rule matches") }),
      defaults,
      settingError.node,
    ),
  );
  draw();
  const offs = [store.on("rules", draw), store.on("topics", draw), store.on("staff", draw)];
  Promise.all([store.loadRules(), store.loadTopics(), store.loadStaff()]).catch(() => {});
  return () => offs.forEach((off) => off());
}
