// A company's contact block: the phone number first, whether it is open now, its business
// hours (in its own time zone, today highlighted) and its response-time promise.
import { h, icon } from "../dom.js";
import { t } from "../i18n.js";
import {
  WEEK,
  customerTimeZone,
  dueWhen,
  duration,
  openAt,
  spansText,
  todayIn,
  weekdayNames,
} from "../time.js";

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

// The promise for a message written now: "We answer within 2 hours (business hours) — by
// today 15:30", in the customer's time (the server counted the business time).
export function promiseNow(company) {
  const minutes = company.reply_within_minutes;
  if (!minutes || !company.reply_by) return null;
  const time = duration(minutes);
  const when = dueWhen(company.reply_by);
  return h("p", {
    class: "promise promise-now",
    text: t("We answer within {time} (business hours) — by {when}.", { time, when }),
  });
}

// A conversation's open answer promise, or an honest word when it is at risk or broken;
// nothing while nobody owes an answer (or the clock is paused: we wait for the customer).
export function promiseState(conversation) {
  const clock = (conversation?.sla || []).find((c) => c.target !== "resolution");
  if (!clock || (clock.paused && !clock.breached_at)) return null;
  if (clock.breached_at) {
    return h("p", {
      class: "promise promise-late",
      role: "status",
      text: t("Taking longer than promised — we're on it."),
    });
  }
  const when = dueWhen(clock.due_at);
  if (clock.warned) {
    return h("p", {
      class: "promise promise-risk",
      role: "status",
      text: t("This is taking a little longer — we still aim to answer by {when}.", { when }),
    });
  }
  const time = duration(clock.minutes);
  return h("p", {
    class: "promise",
    text: t("We answer within {time} (business hours) — by {when}.", { time, when }),
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
