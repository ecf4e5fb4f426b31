// Dates and times in the customer's own time zone, and a company's hours in the company's.
import { lang, t } from "./i18n.js";

// the browser's own regional variant of the page's language (en-US, de-AT, …) when it has one
const locale =
  (navigator.languages || []).find((l) => l.toLowerCase().split("-")[0] === lang) ||
  (lang === "de" ? "de-DE" : "en-GB");
const clock = new Intl.DateTimeFormat(locale, { hour: "2-digit", minute: "2-digit" });
const weekdayShort = new Intl.DateTimeFormat(locale, { weekday: "short" });
const weekdayLong = new Intl.DateTimeFormat(locale, { weekday: "long" });
const shortDate = new Intl.DateTimeFormat(locale, { day: "numeric", month: "short" });
const longDate = new Intl.DateTimeFormat(locale, { weekday: "long", day: "numeric", month: "long" });
const longDateYear = new Intl.DateTimeFormat(locale, {
  weekday: "long",
  day: "numeric",
  month: "long",
  year: "numeric",
});
const full = new Intl.DateTimeFormat(locale, { dateStyle: "full", timeStyle: "short" });

const DAY = 86400000;

function startOfDay(date) {
  const d = new Date(date);
  d.setHours(0, 0, 0, 0);
  return d;
}

function daysAgo(date, now = new Date()) {
  return Math.round((startOfDay(now) - startOfDay(date)) / DAY);
}

export function timeOfDay(iso) {
  return clock.format(new Date(iso));
}

export function fullDate(iso) {
  return full.format(new Date(iso));
}

export function sameDay(a, b) {
  return startOfDay(new Date(a)).getTime() === startOfDay(new Date(b)).getTime();
}

// "Today", "Yesterday", "Monday, 3 June" or with the year when it is not this year.
export function dayLabel(iso) {
  const date = new Date(iso);
  const ago = daysAgo(date);
  if (ago === 0) return t("Today");
  if (ago === 1) return t("Yesterday");
  return date.getFullYear() === new Date().getFullYear()
    ? longDate.format(date)
    : longDateYear.format(date);
}

// For the inbox: a time today, a weekday this week, a date before that.
export function listTime(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  const ago = daysAgo(date);
  if (ago === 0) return clock.format(date);
  if (ago === 1) return t("Yesterday");
  if (ago < 7) return weekdayShort.format(date);
  return shortDate.format(date);
}

// -- a company's business hours, in the company's time zone -------------------------------

export const WEEK = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

export function weekdayNames() {
  const names = new Intl.DateTimeFormat(locale, { weekday: "long", timeZone: "UTC" });
  // 1 January 2024 was a Monday
  return WEEK.map((_, i) => names.format(new Date(Date.UTC(2024, 0, 1 + i))));
}

function partsIn(timeZone, now) {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone,
    weekday: "short",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).formatToParts(now);
  const get = (type) => parts.find((p) => p.type === type)?.value || "";
  return { day: get("weekday").toLowerCase().slice(0, 3), time: `${get("hour")}:${get("minute")}` };
}

export function todayIn(timeZone, now = new Date()) {
  try {
    return partsIn(timeZone, now).day;
  } catch {
    return WEEK[(now.getDay() + 6) % 7];
  }
}

// Whether the hours say "open" at this moment (the server's open_now is preferred).
export function openAt(hours, timeZone, now = new Date()) {
  let here;
  try {
    here = partsIn(timeZone, now);
  } catch {
    return null;
  }
  const spans = (hours && hours[here.day]) || [];
  return spans.some(([from, to]) =>
    to > from ? here.time >= from && here.time < to : here.time >= from || here.time < to,
  );
}

export function spansText(spans) {
  if (!spans || spans.length === 0) return t("Closed");
  return spans.map(([from, to]) => `${from}–${to}`).join(", ");
}

export function customerTimeZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch {
    return "";
  }
}

// "2 hours", "30 minutes", "1 hour and 30 minutes", "2 days" in the page's language.
export function duration(minutes) {
  const unit = (value, name) =>
    new Intl.NumberFormat(locale, { style: "unit", unit: name, unitDisplay: "long" }).format(value);
  if (minutes % 1440 === 0) return unit(minutes / 1440, "day");
  if (minutes < 60) return unit(minutes, "minute");
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  if (rest === 0) return unit(hours, "hour");
  const list = new Intl.ListFormat(locale, { type: "conjunction" });
  return list.format([unit(hours, "hour"), unit(rest, "minute")]);
}

// When a promise falls due, in the customer's own time: "today 15:30", "tomorrow 09:00",
// "Monday 09:00" within a week, else a date with the time.
export function dueWhen(iso, now = new Date()) {
  const date = new Date(iso);
  const time = clock.format(date);
  const ahead = -daysAgo(date, now);
  if (ahead <= 0) return t("today {time}", { time });
  if (ahead === 1) return t("tomorrow {time}", { time });
  return ahead < 7 ? `${weekdayLong.format(date)} ${time}` : fullDate(iso);
}
