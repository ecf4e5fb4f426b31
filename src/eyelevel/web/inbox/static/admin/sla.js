// A team's response-time promises and business calendar (docs/sla.md): the three targets in
// business minutes, whether a breach hands the conversation back to the queue, and the team's
// own hours and holidays (or the company's).
import { announce, h } from "../messenger/dom.js";
import { get } from "../messenger/api.js";
import { t } from "../messenger/i18n.js";
import { put } from "../api.js";
import { WEEK, weekdayNames } from "../messenger/time.js";
import { messageFor } from "../errors.js";
import { errorLine, field, run, uid } from "../views/form.js";

// "09:00-12:00, 13:00-17:00" ↔ [["09:00", "12:00"], ["13:00", "17:00"]]
function spansText(spans) {
  return (spans || []).map(([a, b]) => `${a}-${b}`).join(", ");
}

function parseSpans(text) {
  return text
    .split(",")
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => part.split("-").map((x) => x.trim()));
}

// one "YYYY-MM-DD Name" a line
function holidaysText(list) {
  return (list || []).map((d) => `${d.date} ${d.name}`).join("\n");
}

function parseHolidays(text) {
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const [date, ...name] = line.split(/\s+/);
      return { date, name: name.join(" ") || date };
    });
}

function minutesOrNull(control) {
  const value = control.value.trim();
  return value === "" ? null : Number(value);
}

export function slaPanel(store, team) {
  const body = h("div", { class: "sla-body" });
  const details = h(
    "details",
    { class: "sla" },
    h("summary", { text: t("Response-time promises and business hours") }),
    body,
  );
  let loaded = false;
  details.addEventListener("toggle", async () => {
    if (!details.open || loaded) return;
    loaded = true;
    try {
      draw(await get(`/companies/${store.slug}/teams/${team.id}/sla`));
    } catch (error) {
      loaded = false;
      body.replaceChildren(h("p", { class: "form-error", text: messageFor(error) }));
    }
  });

  function draw(policy) {
    const hint = t("Minutes of business time; empty: no promise");
    const first = field({
      label: t("First response"),
      hint,
      type: "number",
      min: 1,
      value: policy.first_response_minutes ?? "",
    });
    const next = field({
      label: t("Next response"),
      hint,
      type: "number",
      min: 1,
      value: policy.next_response_minutes ?? "",
    });
    const resolution = field({
      label: t("Resolution"),
      hint,
      type: "number",
      min: 1,
      value: policy.resolution_minutes ?? "",
    });
    const reassignId = uid("r");
    const reassign = h("input", {
      type: "checkbox",
      id: reassignId,
      checked: policy.reassign_on_breach,
    });
    const ownId = uid("o");
    const own = h("input", { type: "checkbox", id: ownId, checked: policy.business_hours !== null });
    const names = weekdayNames();
    const days = WEEK.map((day, i) =>
      field({
        label: names[i],
        value: spansText(policy.effective_business_hours[day]),
        placeholder: "09:00-12:00, 13:00-17:00",
      }),
    );
    const hours = h("div", { class: "sla-days" }, days.map((d) => d.node));
    const ownHolidaysId = uid("oh");
    const ownHolidays = h("input", {
      type: "checkbox",
      id: ownHolidaysId,
      checked: policy.holidays !== null,
    });
    const holidays = field({
      label: t("Holidays (one a line: YYYY-MM-DD name)"),
      tag: "textarea",
      rows: 4,
      value: holidaysText(policy.effective_holidays),
    });
    const sync = () => {
      for (const d of days) d.control.disabled = !own.checked;
      holidays.control.disabled = !ownHolidays.checked;
    };
    own.addEventListener("change", sync);
    ownHolidays.addEventListener("change", sync);
    sync();
    const error = errorLine();
    const save = h("button", { type: "button", class: "primary", text: t("Save promises") });
    save.addEventListener("click", () =>
      run(
        save,
        error,
        async () => {
          const business = {};
          WEEK.forEach((day, i) => {
            const spans = parseSpans(days[i].control.value);
            if (spans.length) business[day] = spans;
          });
          const saved = await put(`/companies/${store.slug}/teams/${team.id}/sla`, {
            first_response_minutes: minutesOrNull(first.control),
            next_response_minutes: minutesOrNull(next.control),
            resolution_minutes: minutesOrNull(resolution.control),
            reassign_on_breach: reassign.checked,
            business_hours: own.checked ? business : null,
            holidays: ownHolidays.checked ? parseHolidays(holidays.control.value) : null,
          });
          draw(saved);
          announce(t("Saved."));
        },
        messageFor,
      ),
    );
    body.replaceChildren(
      h("p", {
        class: "hint",
        text: t(
          "Counted in business time, in the company's time zone ({zone}). Pending and snoozed conversations pause the clock. Without a promise here, the company's promise applies.",
          { zone: policy.timezone },
        ),
      }),
      h("div", { class: "sla-targets" }, first.node, next.node, resolution.node),
      h(
        "div",
        { class: "check" },
        reassign,
        h("label", {
          for: reassignId,
          text: t("When a promise breaks, hand the conversation back to the team queue"),
        }),
      ),
      h(
        "div",
        { class: "check" },
        own,
        h("label", { for: ownId, text: t("Own business hours (else the company's)") }),
      ),
      hours,
      h(
        "div",
        { class: "check" },
        ownHolidays,
        h("label", { for: ownHolidaysId, text: t("Own holidays (else the company's)") }),
      ),
      holidays.node,
      error.node,
      h("div", { class: "form-actions" }, save),
    );
  }
  return details;
}
