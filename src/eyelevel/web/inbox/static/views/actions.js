// What can be done with a conversation: assign (to me, a colleague, a team, nobody), change
// its status (pending, snooze until a time, resolve, reopen), set its labels, and (leads and
// admins) put it under legal hold or lift the hold. A restricted one (its customer deleted
// their account) is read-only: only lifting its hold is left.
import { request } from "../messenger/api.js";
import { announce, h } from "../messenger/dom.js";
import { t } from "../messenger/i18n.js";
import { messageFor } from "../errors.js";
import { presenceName, roleName } from "../format.js";
import { icon } from "../icons.js";
import { snoozeDialog } from "./dialog.js";
import { liftHold, putHoldDialog } from "./hold.js";
import { uid } from "./form.js";
import { popover } from "./popover.js";
import { fill } from "../fill.js";

export function conversationActions(store, { onError }) {
  let conversation = null;

  async function act(path, body, method = "POST") {
    const id = conversation.id;
    try {
      const updated = await request(method, `/conversations/${id}/${path}`, body);
      if (updated && updated.id === id) {
        const merged = store.upsert(updated);
        store.emit("conversation", { id, conversation: merged });
      }
      store.refreshCounts();
      return true;
    } catch (error) {
      onError(messageFor(error));
      return false;
    }
  }

  async function assign(body, name) {
    if (await act("assignment", body)) announce(t("Assigned to {name}.", { name }));
  }

  async function setStatus(status, extra = {}) {
    if (!conversation) return;
    if (await act("status", { status, ...extra })) {
      announce(
        {
          open: t("Reopened."),
          pending: t("Marked as pending."),
          snoozed: t("Snoozed."),
          resolved: t("Resolved."),
        }[status],
      );
    }
  }

  async function snooze() {
    if (!conversation) return;
    const until = await snoozeDialog();
    if (until) await setStatus("snoozed", { snoozed_until: until.toISOString() });
  }

  // -- assign menu ---------------------------------------------------------------------------

  const assignMenu = popover({
    label: [icon("user"), h("span", { text: t("Assign…") })],
    className: "assign-menu",
    content: (pop) => {
      const filterId = uid("af");
      const filter = h("input", {
        id: filterId,
        type: "search",
        autocomplete: "off",
        placeholder: t("Find a colleague or team"),
      });
      const results = h("div", { class: "menu-groups" });
      const choice = (text, detail, body, extra = null, current = false) =>
        h(
          "button",
          {
            type: "button",
            class: `menu-item${current ? " current" : ""}`,
            "aria-current": current ? "true" : null,
            on: {
              click: () => {
                pop.close();
                assign(body, text);
              },
            },
          },
          extra,
          h("span", { class: "menu-text", text }),
          detail ? h("span", { class: "menu-detail", text: detail }) : null,
        );
      const draw = () => {
        const q = filter.value.trim().toLowerCase();
        const owner = conversation?.owner;
        const agents = store.agents
          .filter((a) => a.active !== false && (!q || a.name.toLowerCase().includes(q)))
          .map((a) =>
            choice(
              a.name,
              `${roleName(a.role)} · ${presenceName(a.presence)}`,
              { agent_id: a.id },
              h("span", { class: `dot dot-${a.presence || "offline"}`, "aria-hidden": "true" }),
              owner?.type === "agent" && owner.id === a.id,
            ),
          );
        const teams = store.teams
          .filter((team) => !q || team.name.toLowerCase().includes(q))
          .map((team) =>
            choice(
              team.name,
              t("Team queue"),
              { team_id: team.id },
              icon("team"),
              owner?.type === "team" && owner.id === team.id,
            ),
          );
        fill(
          results,
          agents.length
            ? h(
                "div",
                { role: "group", "aria-label": t("Colleagues") },
                h("p", { class: "menu-heading", text: t("Colleagues") }),
                agents,
              )
            : null,
          teams.length
            ? h(
                "div",
                { role: "group", "aria-label": t("Teams") },
                h("p", { class: "menu-heading", text: t("Teams") }),
                teams,
              )
            : null,
          !q ? choice(t("Nobody"), t("Remove the owner"), {}, icon("close"), !owner) : null,
          !agents.length && !teams.length && q
            ? h("p", { class: "menu-empty", text: t("Nobody matches.") })
            : null,
        );
      };
      filter.addEventListener("input", draw);
      draw();
      return [
        h("label", { for: filterId, class: "sr-only", text: t("Find a colleague or team") }),
        filter,
        results,
      ];
    },
    title: t("Assign to a colleague or a team"),
  });
  assignMenu.button.setAttribute("aria-label", t("Assign to a colleague or a team"));

  // -- labels menu ---------------------------------------------------------------------------

  const labelCount = h("span", { class: "tool-count" });
  const labelsMenu = popover({
    label: [icon("tag"), h("span", { text: t("Labels") }), labelCount],
    className: "labels-menu",
    align: "left",
    title: t("Labels of this conversation"),
    content: () => {
      if (!store.labels.length) {
        return h("p", {
          class: "menu-empty",
          text: store.isAdmin()
            ? t("No labels yet. Create them under Administration → Labels.")
            : t("No labels yet. An admin can create them."),
        });
      }
      const chosen = new Set(conversation?.labels || []);
      return h(
        "fieldset",
        { class: "label-choices" },
        h("legend", { class: "sr-only", text: t("Labels of this conversation") }),
        store.labels.map((l) => {
          const id = uid("lb");
          const box = h("input", { type: "checkbox", id, checked: chosen.has(l.id) });
          box.addEventListener("change", async () => {
            if (box.checked) chosen.add(l.id);
            else chosen.delete(l.id);
            const ok = await act("labels", { label_ids: [...chosen] }, "PUT");
            if (!ok) box.checked = !box.checked;
          });
          const swatch = h("span", { class: "swatch", "aria-hidden": "true" });
          swatch.style.backgroundColor = l.color;
          return h("div", { class: "label-choice" }, box, h("label", { for: id }, swatch, l.name));
        }),
      );
    },
  });
  labelsMenu.button.setAttribute("aria-label", t("Labels of this conversation"));

  // -- status buttons ----------------------------------------------------------------------

  const button = (iconName, text, onClick, extra = "") =>
    h(
      "button",
      { type: "button", class: `tool ${extra}`.trim(), on: { click: onClick } },
      icon(iconName),
      h("span", { text }),
    );
  const mine = button("me", t("Assign to me"), () => assignToMe(), "tool-primary");
  const pending = button("pause", t("Pending"), () => setStatus("pending"));
  pending.title = t("Waiting for the customer");
  const snoozeButton = button("clock", t("Snooze…"), () => snooze());
  const resolve = button("check", t("Resolve"), () => setStatus("resolved"), "tool-resolve");
  const reopen = button("reopen", t("Reopen"), () => setStatus("open"));
  const hold = button("shield", t("Legal hold…"), () => putHoldDialog(store, conversation.id));
  hold.title = t("Put under legal hold…");
  const lift = button("shield", t("Lift legal hold"), () =>
    liftHold(store, conversation, { onError }),
  );

  function assignToMe() {
    if (!conversation) return;
    const owner = conversation.owner;
    if (owner?.type === "agent" && owner.id === store.me.id) return;
    assign({ agent_id: store.me.id }, store.me.name);
  }

  const node = h(
    "div",
    { class: "tools", role: "group", "aria-label": t("Actions") },
    mine,
    assignMenu.root,
    labelsMenu.root,
    hold,
    lift,
    h("span", { class: "tools-gap" }),
    pending,
    snoozeButton,
    reopen,
    resolve,
  );

  function draw() {
    if (!conversation) return;
    const owner = conversation.owner;
    mine.hidden = owner?.type === "agent" && owner.id === store.me.id;
    const status = conversation.status;
    pending.hidden = status !== "open";
    snoozeButton.hidden = status === "resolved" || status === "snoozed";
    reopen.hidden = status === "open";
    resolve.hidden = status === "resolved";
    const labels = (conversation.labels || []).length;
    labelCount.textContent = labels ? String(labels) : "";
    const held = store.holds.has(conversation.id);
    const restricted = Boolean(conversation.customer?.erased);
    hold.hidden = !store.isLead() || held || restricted;
    lift.hidden = !store.isLead() || !held;
    if (restricted) {
      for (const control of [mine, pending, snoozeButton, reopen, resolve]) control.hidden = true;
    }
    assignMenu.root.hidden = restricted;
    labelsMenu.root.hidden = restricted;
  }


  return {
    node,
    set(next) {
      conversation = next;
      draw();
    },
    assignToMe,
    resolve: () => {
      if (conversation && conversation.status !== "resolved") setStatus("resolved");
    },
  };
}
