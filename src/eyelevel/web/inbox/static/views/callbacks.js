// Callbacks in the inbox (docs/callbacks.md): the card in an open conversation (call with the
// shared number, start, log the outcome) and the page "My callbacks today".
import { get, post } from "../messenger/api.js";
import { h } from "../messenger/dom.js";
import { t } from "../messenger/i18n.js";
import { dayLabel, timeOfDay } from "../messenger/time.js";
import { messageFor } from "../errors.js";

function stateName(state) {
  switch (state) {
    case "booked":
      return t("Booked");
    case "calling":
      return t("Calling");
    case "done":
      return t("Done");
    case "missed":
      return t("Missed");
    case "rescheduled":
      return t("Rescheduled");
    case "cancelled":
      return t("Cancelled");
    default:
      return state;
  }
}

function when(c) {
  return `${dayLabel(c.slot_start)}, ${timeOfDay(c.slot_start)}–${timeOfDay(c.slot_end)}`;
}

function telLink(c) {
  const phone = c.customer?.phone;
  if (!phone) return h("span", { class: "muted", text: t("No phone number shared") });
  return h("a", { class: "callback-tel", href: `tel:${phone.replace(/[^\d+]/g, "")}`, text: phone });
}

// the outcome form: reached or not, minutes, an internal summary
function outcomeForm(c, done) {
  const error = h("p", { class: "form-error", role: "alert" });
  error.hidden = true;
  const reached = h(
    "select",
    { id: `cb-reached-${c.id}`, name: "reached" },
    h("option", { value: "yes", text: t("Reached") }),
    h("option", { value: "no", text: t("Not reached") }),
  );
  const minutes = h("input", {
    id: `cb-minutes-${c.id}`,
    type: "number",
    min: "0",
    max: "1440",
    name: "minutes",
  });
  const summary = h("textarea", { id: `cb-summary-${c.id}`, rows: "2", name: "summary" });
  const save = h("button", { type: "submit", class: "primary small", text: t("Log outcome") });
  return h(
    "form",
    {
      class: "callback-outcome",
      on: {
        submit: async (event) => {
          event.preventDefault();
          save.disabled = true;
          try {
            const seconds = minutes.value === "" ? null : Math.round(Number(minutes.value) * 60);
            await post(`/callbacks/${c.id}/outcome`, {
              reached: reached.value === "yes",
              duration_seconds: seconds,
              summary: summary.value,
            });
            done();
          } catch (e) {
            error.textContent = messageFor(e);
            error.hidden = false;
          } finally {
            save.disabled = false;
          }
        },
      },
    },
    h("label", { for: reached.id, text: t("Outcome") }),
    reached,
    h("label", { for: minutes.id, text: t("Duration (minutes)") }),
    minutes,
    h("label", { for: summary.id, text: t("Summary (internal)") }),
    summary,
    error,
    save,
  );
}

function callbackCard(c, reload) {
  let owner = "";
  if (c.owner?.name) owner = t("Owner: {name}", { name: c.owner.name });
  const actions = [];
  if (c.state === "booked") {
    actions.push(
      h("button", {
        type: "button",
        class: "secondary small",
        text: t("Start call"),
        on: {
          click: async () => {
            try {
              await post(`/callbacks/${c.id}/start`);
              if (c.customer?.phone) location.href = `tel:${c.customer.phone.replace(/[^\d+]/g, "")}`;
            } finally {
              reload();
            }
          },
        },
      }),
    );
  }
  return h(
    "div",
    { class: `callback-item state-${c.state}`, "data-callback": String(c.id) },
    h(
      "p",
      { class: "callback-line" },
      h("strong", { text: t("Callback") }),
      " · ",
      h("span", { class: "callback-when", text: when(c) }),
      " · ",
      h("span", { class: "callback-state", text: stateName(c.state) }),
    ),
    h(
      "p",
      { class: "callback-line" },
      telLink(c),
      owner ? ` · ${owner}` : "",
    ),
    c.note ? h("p", { class: "callback-note", text: c.note }) : null,
    c.summary ? h("p", { class: "callback-note muted", text: c.summary }) : null,
    ...actions,
    c.state === "booked" || c.state === "calling" ? outcomeForm(c, reload) : null,
  );
}

// the strip above the thread of an open conversation: its current callbacks
export function callbackStrip(store) {
  const node = h("section", { class: "callback-strip", "aria-label": t("Callbacks") });
  node.hidden = true;
  let id = null;

  async function load() {
    const wanted = id;
    if (!wanted) {
      node.hidden = true;
      return;
    }
    try {
      const all = await get(`/conversations/${wanted}/callbacks`);
      if (wanted !== id) return;
      const shown = all.filter((c) => c.state !== "rescheduled").slice(0, 1);
      node.replaceChildren(...shown.map((c) => callbackCard(c, load)));
      node.hidden = shown.length === 0;
    } catch {
      node.hidden = true;
    }
  }

  const off = store.on("callback", (data) => {
    if (data.conversation_id === id) load();
  });
  return {
    node,
    show(conversationId) {
      id = conversationId;
      load();
    },
    destroy: off,
  };
}

// the page: a day's callbacks, mine or the company's
export function callbacksPage(root, { store, route }) {
  const mine = route.params.get("owner") !== "all";
  const list = h("div", { class: "callback-list" });
  const heading = mine ? t("My callbacks today") : t("All callbacks today");
  root.append(
    h("h1", { text: heading, tabindex: "-1" }),
    h(
      "p",
      {},
      h("a", {
        href: mine ? "#/callbacks?owner=all" : "#/callbacks",
        text: mine ? t("Show all callbacks") : t("Show only mine"),
      }),
    ),
    list,
  );

  async function load() {
    try {
      const day = await get(`/companies/${store.slug}/callbacks?owner=${mine ? "me" : "all"}`);
      if (!day.items.length) {
        list.replaceChildren(h("p", { class: "muted", text: t("No callbacks today.") }));
        return;
      }
      list.replaceChildren(
        ...day.items.map((c) =>
          h(
            "div",
            { class: "callback-row" },
            callbackCard(c, load),
            h("a", {
              href: `#/inbox/all/${c.conversation_id}`,
              text: c.customer?.name ? `${c.customer.name} · ${c.subject || ""}` : c.subject || "",
            }),
          ),
        ),
      );
    } catch (e) {
      list.replaceChildren(h("p", { class: "form-error", role: "alert", text: messageFor(e) }));
    }
  }
  const off = store.on("callback", load);
  load();
  return off;
}
