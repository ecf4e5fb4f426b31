// Conversation topics (docs/routing.md): the company's ordered list of what customers write
// about, offered when they start a conversation; and whether they must choose one.
import { post } from "../messenger/api.js";
import { announce, h } from "../messenger/dom.js";
import { t } from "../messenger/i18n.js";
import { del, patch, put } from "../api.js";
import { messageFor } from "../errors.js";
import { icon } from "../icons.js";
import { confirmDialog } from "../views/dialog.js";
import { errorLine, field, keepFocus, run, uid } from "../views/form.js";
import { fill } from "../fill.js";

const MAX_NAME = 60;

// the ids in order with the one at ``index`` moved by ``step`` (-1 up, +1 down)
export function moved(items, index, step) {
  const ids = items.map((item) => item.id);
  const [id] = ids.splice(index, 1);
  ids.splice(index + step, 0, id);
  return ids;
}

// An up or down button for a row of an ordered list.
export function moveButton(direction, name, onClick, disabled) {
  const label =
    direction < 0 ? t("Move {name} up", { name }) : t("Move {name} down", { name });
  return h(
    "button",
    {
      type: "button",
      class: `secondary small icon-only ${direction < 0 ? "up" : "down"}`,
      "aria-label": label,
      title: label,
      disabled,
      "data-key": `${direction < 0 ? "up" : "down"}-${name}`,
      on: { click: onClick },
    },
    icon("down"),
  );
}

export function topicsPage(root, { store }) {
  const base = `/companies/${store.slug}/conversation-topics`;

  // -- the setting ---------------------------------------------------------------------------
  const requiredId = uid("req");
  const required = h("input", { type: "checkbox", role: "switch", class: "switch", id: requiredId });
  const settingError = errorLine();
  required.addEventListener("change", () =>
    run(
      required,
      settingError,
      async () => {
        await put(`/companies/${store.slug}/routing-settings`, {
          topic_required: required.checked,
          default_team_id: store.routing.default_team_id ?? null,
        });
        await Promise.all([store.loadTopics(), store.loadRules()]);
        announce(
          required.checked
            ? t("Customers must now choose a topic.")
            : t("Choosing a topic is now optional."),
        );
      },
      (failure) => {
        required.checked = !required.checked;
        return messageFor(failure);
      },
    ),
  );

  // -- adding ----------------------------------------------------------------------------------
  const error = errorLine();
  const name = field({ label: t("Name"), maxlength: MAX_NAME, placeholder: t("e.g. Invoice") });
  const create = h("button", { type: "submit", class: "primary", text: t("Add topic") });
  const form = h("form", { class: "inline-form", novalidate: true }, name.node, create);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = name.control.value.trim();
    if (!value) {
      error.show(t("Please enter a name."));
      name.control.focus();
      return;
    }
    run(
      create,
      error,
      async () => {
        await post(base, { name: value });
        name.control.value = "";
        await store.loadTopics();
        announce(t("Topic {name} added.", { name: value }));
      },
      messageFor,
    );
  });

  // -- the list --------------------------------------------------------------------------------
  const list = h("ol", { class: "order-list", "aria-labelledby": "all-topics" });
  const listError = errorLine();

  const order = (ids, button) =>
    run(
      button,
      listError,
      async () => {
        await put(`${base}/order`, { ids });
        await store.loadTopics();
        announce(t("Order saved."));
      },
      messageFor,
    );

  function row(topic, index, all) {
    const inputId = uid("tn");
    const input = h("input", {
      id: inputId,
      value: topic.name,
      maxlength: MAX_NAME,
      "data-key": `name-${topic.id}`,
    });
    const save = h("button", {
      type: "button",
      class: "secondary small",
      text: t("Rename"),
      "aria-label": t("Rename the topic {name}", { name: topic.name }),
      "data-key": `save-${topic.id}`,
    });
    const activeId = uid("ta");
    const active = h("input", {
      type: "checkbox",
      role: "switch",
      class: "switch",
      id: activeId,
      checked: topic.active,
      "aria-label": t("{name} offered to customers", { name: topic.name }),
      "data-key": `active-${topic.id}`,
    });
    const complaintId = uid("tc");
    const complaint = h("input", {
      type: "checkbox",
      role: "switch",
      class: "switch",
      id: complaintId,
      checked: Boolean(topic.opens_complaint),
      "aria-label": t("{name} opens a complaint case", { name: topic.name }),
      "data-key": `complaint-${topic.id}`,
    });
    complaint.addEventListener("change", () =>
      run(
        complaint,
        listError,
        async () => {
          await patch(`${base}/${topic.id}`, { opens_complaint: complaint.checked });
          await store.loadTopics();
          announce(t("Saved."));
        },
        (failure) => {
          complaint.checked = !complaint.checked;
          return messageFor(failure);
        },
      ),
    );
    const remove = h("button", {
      type: "button",
      class: "danger-link",
      text: t("Delete"),
      "aria-label": t("Delete the topic {name}", { name: topic.name }),
    });
    save.addEventListener("click", () => {
      const value = input.value.trim();
      if (!value) {
        listError.show(t("Please enter a name."));
        input.focus();
        return;
      }
      run(
        save,
        listError,
        async () => {
          await patch(`${base}/${topic.id}`, { name: value });
          await store.loadTopics();
          announce(t("Saved."));
        },
        messageFor,
      );
    });
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter") save.click();
    });
    active.addEventListener("change", () =>
      run(
        active,
        listError,
        async () => {
          await patch(`${base}/${topic.id}`, { active: active.checked });
          await store.loadTopics();
          announce(
            active.checked
              ? t("{name} is offered again.", { name: topic.name })
              : t("{name} is no longer offered.", { name: topic.name }),
          );
        },
        (failure) => {
          active.checked = !active.checked;
          return messageFor(failure);
        },
      ),
    );
    remove.addEventListener("click", async () => {
      const sure = await confirmDialog(
        t("Delete the topic {name}?", { name: topic.name }),
        t("Only a topic that no conversation and no routing rule uses can be deleted."),
        t("Delete"),
        { danger: true },
      );
      if (!sure) return;
      run(
        remove,
        listError,
        async () => {
          await del(`${base}/${topic.id}`);
          await store.loadTopics();
          announce(t("Topic deleted."));
        },
        messageFor,
      );
    });
    const up = moveButton(-1, topic.name, () => order(moved(all, index, -1), up), index === 0);
    const down = moveButton(
      1,
      topic.name,
      () => order(moved(all, index, 1), down),
      index === all.length - 1,
    );
    return h(
      "li",
      { class: `order-item${topic.active ? "" : " inactive"}` },
      h("span", { class: "order-pos", "aria-hidden": "true", text: String(index + 1) }),
      h(
        "div",
        { class: "order-main" },
        h("label", { for: inputId, class: "sr-only", text: t("Name of the topic") }),
        h("span", { class: "order-name" }, input),
      ),
      h(
        "div",
        { class: "order-tools" },
        save,
        h(
          "span",
          { class: "switch-row" },
          active,
          h("label", { for: activeId, text: t("Offered") }),
        ),
        h(
          "span",
          { class: "switch-row" },
          complaint,
          h("label", { for: complaintId, text: t("Complaint") }),
        ),
        up,
        down,
        remove,
      ),
    );
  }

  function draw() {
    required.checked = store.topicRequired;
    keepFocus(list, () =>
      fill(
        list,
        ...(store.topics.length
          ? store.topics.map((topic, index, all) => row(topic, index, all))
          : [h("li", { class: "muted", text: t("No topics yet.") })]),
      ),
    );
  }

  root.append(
    h("h1", { tabindex: "-1", text: t("Conversation topics") }),
    h("p", {
      class: "hint",
      text: t(
        "Customers choose what their conversation is about when they start it. Routing rules can send each topic to a team, and the inbox can filter by it.",
      ),
    }),
    h(
      "section",
      { class: "panel", "aria-labelledby": "topic-setting" },
      h("h2", { id: "topic-setting", text: t("Choosing a topic") }),
      h(
        "div",
        { class: "switch-row" },
        required,
        h("label", { for: requiredId, text: t("Customers must choose a topic") }),
      ),
      h("p", {
        class: "hint",
        text: t(
          "When this is off, customers may start without a topic. The choice is offered only while at least one topic is active.",
        ),
      }),
      settingError.node,
    ),
    h(
      "section",
      { class: "panel", "aria-labelledby": "new-topic" },
      h("h2", { id: "new-topic", text: t("New topic") }),
      form,
      error.node,
    ),
    h(
      "section",
      { class: "panel", "aria-labelledby": "all-topics" },
      h("h2", { id: "all-topics", text: t("Topics in the order customers see them") }),
      listError.node,
      list,
    ),
  );
  draw();
  const offs = [store.on("topics", draw), store.on("rules", draw)];
  Promise.all([store.loadTopics(), store.loadRules()]).catch(() => {});
  return () => offs.forEach((off) => off());
}
