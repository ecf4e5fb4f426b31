// A team's auto-assignment (docs/routing.md): on or off, its capacity (open conversations per
// agent) and each member's own capacity, saved together.
import { get } from "../messenger/api.js";
import { announce, h } from "../messenger/dom.js";
import { t } from "../messenger/i18n.js";
import { put } from "../api.js";
import { messageFor } from "../errors.js";
import { errorLine, field, run, uid } from "../views/form.js";
import { fill } from "../fill.js";

const MAX_OPEN = 1000;

function capacity(text) {
  const n = Number(text);
  return Number.isInteger(n) && n >= 1 && n <= MAX_OPEN ? n : null;
}

export function assignmentSection(store, team) {
  const path = `/companies/${store.slug}/teams/${team.id}/assignment`;
  const headingId = uid("aa");
  const body = h("div", { class: "stack" }, h("p", { class: "muted", text: t("Loading…") }));
  const error = errorLine();
  const node = h(
    "section",
    { class: "assignment", "aria-labelledby": headingId },
    h("h3", { id: headingId, text: t("Auto-assignment") }),
    body,
    error.node,
  );

  function draw(current) {
    const switchId = uid("as");
    const auto = h("input", { type: "checkbox", role: "switch", class: "switch", id: switchId });
    auto.checked = current.auto_assign;
    const maxOpen = field({
      label: t("Open conversations per agent"),
      type: "number",
      min: 1,
      max: MAX_OPEN,
      step: 1,
      value: String(current.max_open),
      hint: t("An agent gets no more conversations from the queue while they have this many open."),
    });
    maxOpen.node.classList.add("capacity");
    const own = new Map(current.overrides.map((o) => [o.agent_id, o.max_open]));
    const members = team.agent_ids.map((id) => store.agent(id)).filter(Boolean);
    const inputs = members.map((agent) => {
      const id = uid("ov");
      const input = h("input", {
        id,
        type: "number",
        min: 1,
        max: MAX_OPEN,
        step: 1,
        placeholder: t("Team's"),
        "aria-label": t("Own capacity of {name}", { name: agent.name }),
      });
      if (own.has(agent.id)) input.value = String(own.get(agent.id));
      return { agent, input, id };
    });
    const save = h("button", {
      type: "button",
      class: "primary",
      text: t("Save auto-assignment"),
    });
    save.addEventListener("click", () => {
      const max = capacity(maxOpen.control.value);
      if (max === null) {
        error.show(t("The capacity is a number from 1 to 1000."));
        maxOpen.control.focus();
        return;
      }
      const overrides = [];
      for (const { agent, input } of inputs) {
        if (!input.value.trim()) continue;
        const n = capacity(input.value);
        if (n === null) {
          error.show(t("Each agent's own capacity is a number from 1 to 1000, or empty."));
          input.focus();
          return;
        }
        overrides.push({ agent_id: agent.id, max_open: n });
      }
      run(
        save,
        error,
        async () => {
          const saved = await put(path, { auto_assign: auto.checked, max_open: max, overrides });
          draw(saved);
          announce(t("Saved."));
        },
        messageFor,
      );
    });
    fill(
      body,
      h(
        "div",
        { class: "switch-row" },
        auto,
        h("label", {
          for: switchId,
          text: t("Give queued conversations to online agents with free capacity"),
        }),
      ),
      maxOpen.node,
      members.length
        ? h(
            "div",
            { class: "table-wrap" },
            h(
              "table",
              { class: "table capacity-table" },
              h("caption", {
                class: "sr-only",
                text: t("Own capacity of the members of {team}", { team: team.name }),
              }),
              h(
                "thead",
                {},
                h(
                  "tr",
                  {},
                  h("th", { scope: "col", text: t("Member") }),
                  h("th", { scope: "col", text: t("Own capacity (empty: the team's)") }),
                ),
              ),
              h(
                "tbody",
                {},
                inputs.map(({ agent, input, id }) =>
                  h(
                    "tr",
                    {},
                    h("td", {}, h("label", { for: id, text: agent.name })),
                    h("td", {}, input),
                  ),
                ),
              ),
            ),
          )
        : h("p", { class: "muted", text: t("The team has no members yet.") }),
      h("div", { class: "form-actions" }, save),
    );
  }

  get(path)
    .then(draw)
    .catch((failure) => {
      fill(body);
      error.show(messageFor(failure));
    });
  return node;
}
