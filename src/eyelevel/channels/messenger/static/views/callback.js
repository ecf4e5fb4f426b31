// A callback in a conversation (docs/callbacks.md): the card with its live state, and the
// form to book, reschedule or cancel one. Slots are shown in the customer's own time zone.
import { get, post } from "../api.js";
import { h } from "../dom.js";
import { messageFor } from "../errors.js";
import { t } from "../i18n.js";
import { dayLabel, timeOfDay } from "../time.js";
import { busy, errorLine, field } from "./form.js";

function stateText(state) {
  switch (state) {
    case "booked":
      return t("Callback booked");
    case "calling":
      return t("We are calling you now");
    case "done":
      return t("Callback done");
    case "missed":
      return t("Callback missed");
    case "rescheduled":
      return t("Callback moved");
    case "cancelled":
      return t("Callback cancelled");
    default:
      return state;
  }
}

function slotText(slot) {
  return `${dayLabel(slot.start)}, ${timeOfDay(slot.start)}–${timeOfDay(slot.end)}`;
}

export function callbackPanel(conversationId, store) {
  const node = h("section", { class: "callback-panel", "aria-live": "polite" });
  let latest = null;
  let editing = null; // null | "book" | "reschedule"

  async function load() {
    const all = await get(`/conversations/${conversationId}/callbacks`);
    latest = all.find((c) => c.state !== "rescheduled") || null;
    draw();
  }

  async function act(path, body) {
    try {
      await post(path, body);
      editing = null;
      await load();
    } catch (error) {
      node.querySelector(".form-error")?.replaceChildren(messageFor(error));
      const line = node.querySelector(".form-error");
      if (line) line.hidden = false;
    }
  }

  function card() {
    const active = latest.state === "booked";
    const missed = latest.state === "missed";
    const when = slotText({ start: latest.slot_start, end: latest.slot_end });
    const error = errorLine();
    return h(
      "div",
      { class: `callback-card state-${latest.state}`, "data-state": latest.state },
      h("p", { class: "callback-state", text: stateText(latest.state) }),
      h("p", { class: "callback-when", text: when }),
      missed
        ? h("p", { class: "hint", text: t("We are sorry. Please choose a new time.") })
        : null,
      error.node,
      h(
        "div",
        { class: "callback-actions" },
        active || missed
          ? h("button", {
              type: "button",
              class: "button secondary",
              text: missed ? t("Choose a new time") : t("Reschedule"),
              on: {
                click: () => {
                  editing = "reschedule";
                  draw();
                },
              },
            })
          : null,
        active
          ? h("button", {
              type: "button",
              class: "button secondary",
              text: t("Cancel callback"),
              on: { click: () => act(`/callbacks/${latest.id}/cancel`) },
            })
          : null,
        latest.state === "done" || latest.state === "cancelled"
          ? h("button", {
              type: "button",
              class: "link",
              text: t("Request a callback"),
              on: {
                click: () => {
                  editing = "book";
                  draw();
                },
              },
            })
          : null,
      ),
    );
  }

  async function form(mode) {
    const error = errorLine();
    const offer = await get(`/conversations/${conversationId}/callbacks/slots`);
    const choose = h(
      "select",
      { id: "callback-slot", name: "slot", required: true },
      ...offer.items.map((s) => h("option", { value: s.start, text: slotText(s) })),
    );
    const label = h("label", { for: "callback-slot", text: t("Time (your time zone)") });
    let phone = null;
    let note = null;
    if (mode === "book") {
      const profile = await get("/me/profile");
      phone = field({
        label: t("Phone number"),
        type: "tel",
        autocomplete: "tel",
        required: true,
        value: profile.phone || "",
        hint: t("We share this number with the company so it can call you back."),
      });
      note = field({ label: t("What is it about? (optional)"), type: "text", maxlength: "500" });
    }
    const submit = h("button", {
      type: "submit",
      class: "button wide",
      text: mode === "book" ? t("Book callback") : t("Move callback"),
    });
    const cancel = h("button", {
      type: "button",
      class: "link",
      text: t("Back"),
      on: {
        click: () => {
          editing = null;
          draw();
        },
      },
    });
    if (!offer.items.length) {
      return h(
        "div",
        { class: "callback-form" },
        h("p", { class: "hint", text: t("No callback times are free right now.") }),
        cancel,
      );
    }
    return h(
      "form",
      {
        class: "callback-form",
        on: {
          submit: async (event) => {
            event.preventDefault();
            error.show("");
            busy(submit, true);
            try {
              if (mode === "book") {
                await post(`/conversations/${conversationId}/callbacks`, {
                  start: choose.value,
                  phone: phone.control.value,
                  note: note.control.value,
                });
              } else {
                await post(`/callbacks/${latest.id}/reschedule`, { start: choose.value });
              }
              editing = null;
              await load();
            } catch (e) {
              error.show(messageFor(e));
            } finally {
              busy(submit, false);
            }
          },
        },
      },
      h("h2", { text: mode === "book" ? t("Request a callback") : t("Choose a new time") }),
      h("div", { class: "field" }, label, choose),
      phone ? phone.node : null,
      note ? note.node : null,
      error.node,
      submit,
      cancel,
    );
  }

  async function draw() {
    if (editing) {
      try {
        node.replaceChildren(await form(editing));
      } catch (error) {
        node.replaceChildren(h("p", { class: "form-error", role: "alert", text: messageFor(error) }));
      }
      return;
    }
    if (latest) {
      node.replaceChildren(card());
      return;
    }
    node.replaceChildren(
      h("button", {
        type: "button",
        class: "button secondary callback-ask",
        text: t("Request a callback"),
        on: {
          click: () => {
            editing = "book";
            draw();
          },
        },
      }),
    );
  }

  const off = store.on("callback", (data) => {
    if (data.conversation_id === conversationId && !editing) load().catch(() => {});
  });
  load().catch(() => draw());
  return { node, close: off };
}
