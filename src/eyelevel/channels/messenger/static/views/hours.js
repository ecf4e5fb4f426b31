// A company's contact block: the phone number first, whether it is open now, its business
// hours (in its own time zone, today highlighted) and its response-time promise.
import { h, icon } from "../dom.js";
import { t } from "../i18n.js";
import { WEEK, customerTimeZone, duration, openAt, spansText, todayIn, weekdayNames } from "../time.js";

export function isOpen(company) {
  if (typeof company.open_now === "boolean") return company.open_now;
  return openAt(company.business_hours, company.timezone);
}

export function openBadge(company) {
  const open = isOpen(company);
  if (open === null) return null;
  return h("span", {
    class: `chip ${open ? "chip-open" : "chip-closed"}`,
    text: open ? t("Open now") : t("Closed now"),
  });
}

export function phoneLink(company, compact = false) {
  if (!company.phone) return null;
  const digits = company.phone.replace(/[^\d+]/g, "");
  return h(
    "a",
    { class: compact ? "call call-compact" : "call", href: `tel:${digits}` },
    icon("phone"),
    h(
      "span",
      {},
      h("span", { class: "call-label", text: t("Call") }),
      " ",
      h("span", { class: "call-number", text: company.phone }),
    ),
  );
}

export function promiseLine(company) {
  const minutes = company.reply_within_minutes;
  if (!minutes) return null;
  return h("p", {
    class: "promise",
    text: t("{company} promises to answer within {time}.", {
      company: company.name,
      time: duration(minutes),
    }),
  });
}

export function hoursTable(company) {
  const names = weekdayNames();
  const today = todayIn(company.timezone);
  const rows = WEEK.map((day, i) => {
    const isToday = day === today;
    return h(
      "tr",
      { class: isToday ? "today" : null, "aria-current": isToday ? "date" : null },
      h(
        "th",
        { scope: "row" },
        names[i],
        isToday ? h("span", { class: "today-tag", text: t("today") }) : null,
      ),
      h("td", { text: spansText(company.business_hours?.[day]) }),
    );
  });
  const zone = company.timezone !== customerTimeZone() ? company.timezone : null;
  return h(
    "table",
    { class: "hours" },
    h(
      "caption",
      {},
      t("Business hours"),
      zone ? h("span", { class: "zone", text: t("(time zone {zone})", { zone }) }) : null,
    ),
    h("tbody", {}, rows),
  );
}
