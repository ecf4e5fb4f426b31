// Words the inbox shows in many places: statuses, roles, presence, waiting times, names.
import { lang, t } from "./messenger/i18n.js";

export const STATUSES = ["open", "pending", "snoozed", "resolved"];

export function statusName(status) {
  return (
    {
      open: () => t("Open"),
      pending: () => t("Pending"),
      snoozed: () => t("Snoozed"),
      resolved: () => t("Resolved"),
    }[status] || (() => status)
  )();
}

export function roleName(role) {
  return (
    { agent: () => t("Agent"), lead: () => t("Team lead"), admin: () => t("Admin") }[role] ||
    (() => role)
  )();
}

export const PRESENCES = ["online", "away", "offline"];

export function presenceName(presence) {
  return (
    {
      online: () => t("Online"),
      away: () => t("Away"),
      offline: () => t("Offline"),
    }[presence] || (() => t("Offline"))
  )();
}

export function firstName(name) {
  return (name || "").trim().split(/\s+/)[0] || "";
}

// "< 1 min", "4 min", "2 h", "3 d": how long someone has been waiting, short enough for a list
export function since(iso, now = Date.now()) {
  if (!iso) return "";
  const minutes = Math.max(0, Math.floor((now - new Date(iso).getTime()) / 60000));
  if (minutes < 1) return t("< 1 min");
  if (minutes < 60) return t("{n} min", { n: minutes });
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return t("{n} h", { n: hours });
  return t("{n} d", { n: Math.floor(hours / 24) });
}

const number = new Intl.NumberFormat(lang);

export function count(n) {
  return n === null || n === undefined ? "" : number.format(n);
}

// Fills {customer.first_name}, {customer.name}, {agent.first_name}, {agent.name},
// {company.name}; an unknown placeholder stays as written, an unknown value becomes empty.
export function fillPlaceholders(text, values) {
  return text.replace(/\{(customer|agent|company)\.(first_name|name)\}/g, (whole, who, what) => {
    const value = values[who]?.[what];
    return value === undefined ? whole : value || "";
  });
}

export function customerName(conversation) {
  if (conversation?.customer?.erased) return t("Deleted customer");
  return (
    conversation?.customer?.name || t("Customer #{id}", { id: conversation?.customer_id ?? "" })
  );
}

// the browser's own regional variant of the page's language, as the messenger's time.js picks it
const locale =
  (navigator.languages || []).find((l) => l.toLowerCase().split("-")[0] === lang) ||
  (lang === "de" ? "de-DE" : "en-GB");
const compact = new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short" });

// "25 Nov 2026, 14:27": a date and time short enough for a table cell
export function dateTime(iso) {
  return iso ? compact.format(new Date(iso)) : "";
}

const weekdayTime = new Intl.DateTimeFormat(locale, {
  weekday: "short",
  hour: "2-digit",
  minute: "2-digit",
});
const dayMonth = new Intl.DateTimeFormat(locale, { day: "numeric", month: "short" });
const clockTime = new Intl.DateTimeFormat(locale, { hour: "2-digit", minute: "2-digit" });

// A moment ahead, briefly: "09:00" today, "Thu 09:00" within a week, "3 Dec" later
export function ahead(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  const days = (date.getTime() - Date.now()) / 86400000;
  if (date.toDateString() === new Date().toDateString()) return clockTime.format(date);
  return days < 6 ? weekdayTime.format(date) : dayMonth.format(date);
}

// The conversation's most urgent open promise (the server sends them soonest due first)
export function slaClock(conversation) {
  return (conversation?.sla || [])[0] || null;
}

// ok | risk (80 % used) | late (breached) | paused: the due chip's colour
export function dueLevel(clock, now = Date.now()) {
  if (clock.breached_at || (clock.due_at && new Date(clock.due_at).getTime() <= now)) return "late";
  if (clock.paused) return "paused";
  if (clock.warned || (clock.warn_at && new Date(clock.warn_at).getTime() <= now)) return "risk";
  return "ok";
}

// "due in 12 min", "5 min overdue", "paused": a due time relative to now, for a list
export function dueText(clock, now = Date.now()) {
  if (clock.paused && !clock.breached_at) return t("paused");
  const minutes = Math.round((new Date(clock.due_at).getTime() - now) / 60000);
  const n = Math.abs(minutes);
  let amount = t("{n} min", { n });
  if (n >= 1440) amount = t("{n} d", { n: Math.floor(n / 1440) });
  else if (n >= 60) amount = t("{n} h", { n: Math.floor(n / 60) });
  if (minutes < 0) return t("{time} overdue", { time: amount });
  return t("due in {time}", { time: amount });
}
