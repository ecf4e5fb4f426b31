// Teams: create, rename, delete, choose their members, set their promises (admin/sla.js) and
// their auto-assignment (admin/assignment.js).
import { announce, h } from "../messenger/dom.js";
import { t, tn } from "../messenger/i18n.js";
import { post } from "../messenger/api.js";
import { del, patch, put } from "../api.js";
import { messageFor } from "../errors.js";
import { confirmDialog } from "../views/dialog.js";
import { errorLine, field, run, uid } from "../views/form.js";
import { fill } from "../fill.js";
import { slaPanel } from "./sla.js";
import { assignmentSection } from "./assignment.js";

export function teamsPage(root, { store }) {
  const list = h("div", { class: "stack" });
  const error = errorLine();
  const name = field({ label: t("Name of the new team"), maxlength: 100 });
  const create = h("button", { type: "submit", class: "primary", text: t("Create team") });
  const form = h("form", { class: "inline-form", novalidate: true }, name.node, create);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = name.control.value.trim();
    if (!value) {
      error.show(t("Please enter a name."));
      return;
    }
    run(
      create,
      error,
      async () => {
        await post(`/companies/${store.slug}/teams`, { name: value });
        name.control.value = "";
        await store.loadStaff();
        announce(t("Team {name} created.", { name: value }));
      },
      messageFor,
    );
  });

  function teamPanel(team) {
    const headingId = uid("team");
    const rename = field({ label: t("Team name"), value: team.name, maxlength: 100 });
    const saveName = h("button", { type: "button", class: "secondary", text: t("Rename") });
    const remove = h("button", { type: "button", class: "danger-link", text: t("Delete team") });
    const members = new Set(team.agent_ids);
    const boxes = store.agents.map((agent) => {
      const id = uid("m");
      const box = h("input", { type: "checkbox", id, checked: members.has(agent.id) });
      box.addEventListener("change", () => {
        if (box.checked) members.add(agent.id);
        else members.delete(agent.id);
      });
      return h(
        "div",
        { class: `check${agent.active === false ? " inactive" : ""}` },
        box,
        h("label", {
          for: id,
          text:
            agent.active === false ? t("{name} (deactivated)", { name: agent.name }) : agent.name,
        }),
      );
    });
    const saveMembers = h("button", { type: "button", class: "primary", text: t("Save members") });
    const local = errorLine();
    saveName.addEventListener("click", () =>
      run(
        saveName,
        local,
        async () => {
          const value = rename.control.value.trim();
          if (!value) throw new Error("empty");
          await patch(`/companies/${store.slug}/teams/${team.id}`, { name: value });
          await store.loadStaff();
          announce(t("Saved."));
        },
        (failure) =>
          failure instanceof Error && failure.message === "empty"
            ? t("Please enter a name.")
            : messageFor(failure),
      ),
    );
    saveMembers.addEventListener("click", () =>
      run(
        saveMembers,
        local,
        async () => {
          await put(`/companies/${store.slug}/teams/${team.id}/members`, {
            agent_ids: [...members],
          });
          await store.loadStaff();
          announce(t("Saved."));
        },
        messageFor,
      ),
    );
    remove.addEventListener("click", async () => {
      const sure = await confirmDialog(
        t("Delete the team {name}?", { name: team.name }),
        t("Its members stay in the company. Conversations must be assigned elsewhere first."),
        t("Delete team"),
        { danger: true },
      );
      if (!sure) return;
      run(
        remove,
        local,
        async () => {
          await del(`/companies/${store.slug}/teams/${team.id}`);
          await store.loadStaff();
          announce(t("Team deleted."));
        },
        messageFor,
      );
    });
    return h(
      "section",
      { class: "panel", "aria-labelledby": headingId },
      h(
        "div",
        { class: "panel-head" },
        h("h2", { id: headingId, text: team.name }),
        h("span", { class: "muted", text: tn("{n} member", "{n} members", team.agent_ids.length) }),
      ),
      h("div", { class: "inline-form" }, rename.node, saveName),
      h(
        "fieldset",
        { class: "members" },
        h("legend", { text: t("Members") }),
        h("div", { class: "check-grid" }, boxes),
      ),
      local.node,
      h("div", { class: "form-actions" }, saveMembers, remove),
      slaPanel(store, team),
      assignmentSection(store, team),
    );
  }

  // redrawn only when teams or colleagues change, not with every presence change (a redraw
  // would drop what is being typed)
  let drawn = null;
  function draw() {
    const signature = JSON.stringify([
      store.teams.map((team) => [team.id, team.name, team.agent_ids]),
      store.agents.map((agent) => [agent.id, agent.name, agent.active]),
    ]);
    if (signature === drawn) return;
    drawn = signature;
    fill(
      list,
      ...(store.teams.length
        ? store.teams.map(teamPanel)
        : [h("p", { class: "muted", text: t("No teams yet.") })]),
    );
  }

  root.append(
    h("h1", { tabindex: "-1", text: t("Teams") }),
    h("p", {
      class: "hint",
      text: t(
        "A team is a queue: conversations can be assigned to it, and its members see them under the team's view.",
      ),
    }),
    h("section", { class: "panel", "aria-label": t("New team") }, form, error.node),
    list,
  );
  draw();
  const off = store.on("staff", draw);
  store.loadStaff().catch(() => {});
  return off;
}
