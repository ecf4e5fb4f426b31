// The company profile: name, address (slug), description, phone, time zone, business hours
// per weekday, holidays, the response-time promise, how long resolved conversations are kept, and
// the inbound email addresses (a form of their own: PUT /companies/{slug}/mail-addresses).
import { get } from "../messenger/api.js";
import { announce, h } from "../messenger/dom.js";
import { t } from "../messenger/i18n.js";
import { WEEK, weekdayNames } from "../messenger/time.js";
import { patch, put } from "../api.js";
import { messageFor } from "../errors.js";
import { icon } from "../icons.js";
import { errorLine, field, okLine, run, uid } from "../views/form.js";
import { fill } from "../fill.js";

function timeZones(current) {
  let zones = [];
  try {
    zones = Intl.supportedValuesOf("timeZone");
  } catch {
    zones = ["Europe/Berlin", "Europe/Vienna", "Europe/Zurich", "UTC"];
  }
  if (current && !zones.includes(current)) zones = [current, ...zones];
  return zones.map((z) => [z, z.replace(/_/g, " ")]);
}

function hoursEditor(initial) {
  const names = weekdayNames();
  const rows = new Map();
  const table = h("div", {
    class: "hours-editor",
    role: "group",
    "aria-label": t("Business hours"),
  });

  function intervalNode(day, dayName, [from, to] = ["09:00", "17:00"], list) {
    const fromId = uid("h");
    const toId = uid("h");
    const start = h("input", { id: fromId, type: "time", value: from, required: true });
    const end = h("input", { id: toId, type: "time", value: to, required: true });
    const remove = h(
      "button",
      {
        type: "button",
        class: "icon-btn",
        "aria-label": t("Remove these hours on {day}", { day: dayName }),
        title: t("Remove"),
      },
      icon("close"),
    );
    const node = h(
      "span",
      { class: "interval" },
      h("label", { for: fromId, class: "sr-only", text: t("{day} from", { day: dayName }) }),
      start,
      h("span", { "aria-hidden": "true", text: "–" }),
      h("label", { for: toId, class: "sr-only", text: t("{day} until", { day: dayName }) }),
      end,
      remove,
    );
    remove.addEventListener("click", () => {
      node.remove();
      draw(day);
    });
    list.append(node);
    return node;
  }

  function draw(day) {
    const row = rows.get(day);
    const open = row.list.children.length > 0;
    row.closed.hidden = open;
  }

  WEEK.forEach((day, i) => {
    const list = h("span", { class: "intervals" });
    const closed = h("span", { class: "muted", text: t("Closed") });
    const add = h("button", {
      type: "button",
      class: "link small",
      text: t("Add hours"),
      "aria-label": t("Add opening hours on {day}", { day: names[i] }),
    });
    rows.set(day, { list, closed });
    add.addEventListener("click", () => {
      const node = intervalNode(day, names[i], undefined, list);
      draw(day);
      node.querySelector("input").focus();
    });
    for (const span of initial?.[day] || []) intervalNode(day, names[i], span, list);
    table.append(
      h(
        "div",
        { class: "hours-row" },
        h("span", { class: "day-name", text: names[i] }),
        list,
        closed,
        add,
      ),
    );
    draw(day);
  });

  return {
    node: table,
    value() {
      const result = {};
      for (const day of WEEK) {
        result[day] = [...rows.get(day).list.querySelectorAll(".interval")].map((node) => {
          const [start, end] = node.querySelectorAll("input");
          return [start.value, end.value];
        });
      }
      return result;
    },
  };
}

function holidaysEditor(initial) {
  const list = h("ul", { class: "holiday-list" });
  function row({ date = "", name = "" } = {}) {
    const dateId = uid("hd");
    const nameId = uid("hn");
    const dateInput = h("input", { id: dateId, type: "date", value: date, required: true });
    const nameInput = h("input", { id: nameId, type: "text", value: name, maxlength: 100 });
    const remove = h(
      "button",
      {
        type: "button",
        class: "icon-btn",
        "aria-label": t("Remove this holiday"),
        title: t("Remove"),
      },
      icon("close"),
    );
    const node = h(
      "li",
      { class: "holiday" },
      h("label", { for: dateId, class: "sr-only", text: t("Date") }),
      dateInput,
      h("label", { for: nameId, class: "sr-only", text: t("Name of the holiday") }),
      nameInput,
      remove,
    );
    nameInput.placeholder = t("e.g. New Year");
    remove.addEventListener("click", () => node.remove());
    list.append(node);
    return node;
  }
  for (const holiday of initial || []) row(holiday);
  const add = h("button", { type: "button", class: "secondary small", text: t("Add a holiday") });
  add.addEventListener("click", () => row().querySelector("input").focus());
  return {
    node: h("div", { class: "stack" }, list, add),
    value() {
      return [...list.querySelectorAll(".holiday")]
        .map((node) => {
          const [date, name] = node.querySelectorAll("input");
          return { date: date.value, name: name.value.trim() };
        })
        .filter((holiday) => holiday.date);
    },
  };
}

function mailForm(store, addresses) {
  const list = field({
    label: t("Inbound email addresses"),
    tag: "textarea",
    rows: 3,
    value: addresses.join("\n"),
    hint: t(
      "One per line, e.g. support@your-company.example. Mail to these addresses becomes conversations here; answers go back by email.",
    ),
  });
  const error = errorLine();
  const ok = okLine();
  const save = h("button", { type: "submit", class: "primary", text: t("Save addresses") });
  const form = h(
    "form",
    { class: "panel stack form-wide", novalidate: true, "aria-labelledby": "profile-email" },
    h("h2", { id: "profile-email", text: t("Email") }),
    list.node,
    error.node,
    ok.node,
    h("div", { class: "form-actions" }, save),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    ok.show("");
    const wanted = list.control.value
      .split(/[\s,;]+/)
      .map((a) => a.trim())
      .filter(Boolean);
    run(
      save,
      error,
      async () => {
        const saved = await put(`/companies/${store.slug}/mail-addresses`, { addresses: wanted });
        list.control.value = saved.addresses.join("\n");
        ok.show(t("Saved."));
        announce(t("Saved."));
      },
      messageFor,
    );
  });
  return form;
}

export function profilePage(root, { store }) {
  root.append(h("h1", { tabindex: "-1", text: t("Company profile") }));
  const body = h("div", { class: "stack" }, h("p", { class: "muted", text: t("Loading…") }));
  root.append(body);

  async function load() {
    const [card, mail] = await Promise.all([
      get(`/companies/${store.slug}`),
      get(`/companies/${store.slug}/mail-addresses`),
    ]);
    const name = field({ label: t("Name"), value: card.name, maxlength: 100, required: true });
    const slug = field({
      label: t("Address (slug)"),
      value: card.slug,
      maxlength: 50,
      pattern: "[a-z0-9-]+",
      hint: t(
        "Lower-case letters, digits and dashes. Links to the widget and the company card use it.",
      ),
    });
    const description = field({
      label: t("Description"),
      tag: "textarea",
      rows: 3,
      value: card.description,
      maxlength: 500,
    });
    const phone = field({
      label: t("Phone number"),
      type: "tel",
      value: card.phone,
      maxlength: 40,
    });
    const timezone = field({
      label: t("Time zone"),
      tag: "select",
      options: timeZones(card.timezone),
      value: card.timezone,
    });
    const promise = field({
      label: t("Response-time promise (minutes)"),
      type: "number",
      min: 1,
      max: 100000,
      value: card.reply_within_minutes ?? "",
      hint: t("Customers see it on the company card. Leave it empty to make no promise."),
    });
    promise.node.classList.add("narrow");
    const retention = field({
      label: t("Delete resolved conversations after (days)"),
      type: "number",
      min: 30,
      max: 3650,
      value: card.retention_days ?? "",
      hint: t(
        "30 to 3650 days after a conversation was resolved, with its messages and files. Leave it empty to keep them.",
      ),
    });
    retention.node.classList.add("narrow");
    const hours = hoursEditor(card.business_hours);
    const holidays = holidaysEditor(card.holidays);
    const error = errorLine();
    const ok = okLine();
    const save = h("button", { type: "submit", class: "primary", text: t("Save changes") });
    const form = h(
      "form",
      { class: "stack form-wide", novalidate: true },
      h(
        "section",
        { class: "panel", "aria-labelledby": "profile-basics" },
        h("h2", { id: "profile-basics", text: t("Basics") }),
        h("div", { class: "grid-2" }, name.node, slug.node),
        description.node,
        h("div", { class: "grid-2" }, phone.node, timezone.node),
        promise.node,
      ),
      h(
        "section",
        { class: "panel", "aria-labelledby": "profile-hours" },
        h("h2", { id: "profile-hours", text: t("Business hours") }),
        h("p", {
          class: "hint",
          text: t("In the company's time zone. A day without hours is closed."),
        }),
        hours.node,
      ),
      h(
        "section",
        { class: "panel", "aria-labelledby": "profile-holidays" },
        h("h2", { id: "profile-holidays", text: t("Holidays") }),
        h("p", { class: "hint", text: t("Closed all day on these dates.") }),
        holidays.node,
      ),
      h(
        "section",
        { class: "panel", "aria-labelledby": "profile-retention" },
        h("h2", { id: "profile-retention", text: t("Retention") }),
        retention.node,
      ),
      error.node,
      ok.node,
      h("div", { class: "form-actions" }, save),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      ok.show("");
      if (!name.control.value.trim()) {
        error.show(t("Please enter a name."));
        name.control.focus();
        return;
      }
      if (!/^[a-z0-9-]+$/.test(slug.control.value)) {
        error.show(t("The address may contain lower-case letters, digits and dashes."));
        slug.control.focus();
        return;
      }
      const minutes = promise.control.value ? Number(promise.control.value) : null;
      const days = retention.control.value ? Number(retention.control.value) : null;
      if (days !== null && !(Number.isInteger(days) && days >= 30 && days <= 3650)) {
        error.show(t("Please enter 30 to 3650 days, or leave the field empty."));
        retention.control.focus();
        return;
      }
      const body = {
        name: name.control.value.trim(),
        slug: slug.control.value,
        description: description.control.value,
        phone: phone.control.value.trim(),
        timezone: timezone.control.value,
        business_hours: hours.value(),
        holidays: holidays.value(),
        reply_within_minutes: minutes,
        retention_days: days,
      };
      run(
        save,
        error,
        async () => {
          const saved = await patch(`/companies/${store.slug}`, body);
          store.company.name = saved?.name ?? body.name;
          store.company.slug = saved?.slug ?? body.slug;
          const shown = document.querySelector(".company-name");
          if (shown) shown.textContent = store.company.name;
          ok.show(t("Saved."));
          announce(t("Saved."));
        },
        messageFor,
      );
    });
    fill(body, form, mailForm(store, mail.addresses));
  }
  load().catch((error) =>
    fill(body, h("p", { class: "form-error", role: "alert", text: messageFor(error) })),
  );
}
