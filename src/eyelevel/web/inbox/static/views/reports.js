// Reports for leads and admins (docs/reports.md): promises kept, first-response and
// resolution times per week, team or agent, volume by channel and topic, a CSV download.
// Route: #/reports?period=week|4weeks|custom&from=&to=&group=week|team|agent
import { get } from "../messenger/api.js";
import { h } from "../messenger/dom.js";
import { t } from "../messenger/i18n.js";
import { messageFor } from "../errors.js";
import { count } from "../format.js";
import { withParams, go } from "../router.js";

const DAY = 86400000;

function isoDate(d) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

// this week (Monday to today) or the last four weeks (four whole weeks up to this Sunday)
function presetRange(period) {
  const today = new Date();
  today.setHours(12, 0, 0, 0);
  const monday = new Date(today.getTime() - ((today.getDay() + 6) % 7) * DAY);
  if (period === "4weeks") {
    return {
      from: isoDate(new Date(monday.getTime() - 21 * DAY)),
      to: isoDate(new Date(monday.getTime() + 6 * DAY)),
    };
  }
  return { from: isoDate(monday), to: isoDate(new Date(monday.getTime() + 6 * DAY)) };
}

// "45 s", "12 min", "2 h 5 min", "3 d 4 h": a duration a person reads at a glance
export function duration(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  if (seconds < 60) return t("{n} s", { n: Math.round(seconds) });
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return t("{n} min", { n: minutes });
  const hours = Math.floor(minutes / 60);
  if (hours < 24) {
    const rest = minutes % 60;
    return rest ? t("{h} h {m} min", { h: hours, m: rest }) : t("{n} h", { n: hours });
  }
  const days = Math.floor(hours / 24);
  const rest = hours % 24;
  return rest ? t("{d} d {h} h", { d: days, h: rest }) : t("{n} d", { n: days });
}

function share(value) {
  if (value === null || value === undefined) return "–";
  return `${Math.round(value * 1000) / 10} %`;
}

function channelName(channel) {
  switch (channel) {
    case "messenger":
      return t("Messenger");
    case "widget":
      return t("Website widget");
    case "email":
      return t("Email");
    case "api":
      return t("API");
    default:
      return channel;
  }
}

function rowLabel(row, group) {
  if (row.key === "total") return t("Total");
  if (group === "week") {
    const week = Number(row.key.split("-W")[1]);
    return t("Week {n} · from {date}", { n: week, date: row.label });
  }
  if (row.key === "none") return group === "team" ? t("No team") : t("Unassigned");
  return row.label;
}

function groupName(group) {
  if (group === "team") return t("Team");
  if (group === "agent") return t("Agent");
  return t("Week");
}

function mainTable(report) {
  const head = [
    groupName(report.group),
    t("Conversations"),
    t("Promises kept"),
    t("Kept"),
    t("First response (median)"),
    t("First response (p90)"),
    t("In business time (median)"),
    t("Resolution (median)"),
    t("Resolution (p90)"),
    t("Rating (CSAT)"),
  ];
  const rating = (row) =>
    row.csat_average === null
      ? "–"
      : t("{average} of 5 ({n})", {
          average: row.csat_average.toLocaleString(undefined, { maximumFractionDigits: 2 }),
          n: count(row.ratings),
        });
  const line = (row, tag) =>
    h(
      "tr",
      { "data-key": row.key },
      h(tag, { scope: tag === "th" ? "row" : null, text: rowLabel(row, report.group) }),
      h("td", { class: "num", text: count(row.conversations) }),
      h("td", {
        class: "num",
        text: `${count(row.promises_kept)} / ${count(row.promises_counted)}`,
      }),
      h("td", { class: "num kept", text: share(row.kept_share) }),
      h("td", { class: "num", text: duration(row.first_response.median_s) }),
      h("td", { class: "num", text: duration(row.first_response.p90_s) }),
      h("td", { class: "num", text: duration(row.first_response_business.median_s) }),
      h("td", { class: "num", text: duration(row.resolution.median_s) }),
      h("td", { class: "num", text: duration(row.resolution.p90_s) }),
      h("td", { class: "num", text: rating(row) }),
    );
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "table report-table", id: "report-main" },
      h("thead", {}, h("tr", {}, head.map((text) => h("th", { scope: "col", text })))),
      h("tbody", {}, report.rows.map((row) => line(row, "th"))),
      h("tfoot", {}, line(report.total, "th")),
    ),
  );
}

function volumeTable(id, caption, items) {
  return h(
    "section",
    { class: "panel report-volume" },
    h("h2", { text: caption }),
    h(
      "table",
      { class: "table report-table", id },
      h(
        "tbody",
        {},
        items.map(([name, n]) =>
          h(
            "tr",
            {},
            h("th", { scope: "row", text: name }),
            h("td", { class: "num", text: count(n) }),
          ),
        ),
      ),
    ),
  );
}

export function reportsPage(root, { store, route }) {
  const params = route.params;
  const period = params.get("period") || "week";
  const group = ["week", "team", "agent"].includes(params.get("group"))
    ? params.get("group")
    : "week";
  const range =
    period === "custom"
      ? { from: params.get("from") || presetRange("week").from, to: params.get("to") || "" }
      : presetRange(period);
  if (period === "custom" && !range.to) range.to = presetRange("week").to;

  const periodSelect = h(
    "select",
    {
      id: "report-period",
      on: {
        change: () => {
          const value = periodSelect.value;
          const changes = { period: value, from: null, to: null };
          if (value === "custom") Object.assign(changes, range);
          go(withParams(route, changes));
        },
      },
    },
    h("option", { value: "week", text: t("This week") }),
    h("option", { value: "4weeks", text: t("Last 4 weeks") }),
    h("option", { value: "custom", text: t("Custom period") }),
  );
  periodSelect.value = period;
  const fromInput = h("input", { id: "report-from", type: "date", value: range.from });
  const toInput = h("input", { id: "report-to", type: "date", value: range.to });
  const custom = h(
    "form",
    {
      class: "inline-form report-custom",
      on: {
        submit: (event) => {
          event.preventDefault();
          go(withParams(route, { period: "custom", from: fromInput.value, to: toInput.value }));
        },
      },
    },
    h("label", { class: "field" }, h("span", { text: t("From") }), fromInput),
    h("label", { class: "field" }, h("span", { text: t("To") }), toInput),
    h("button", { type: "submit", class: "secondary", text: t("Show") }),
  );
  custom.hidden = period !== "custom";

  const groups = h(
    "nav",
    { class: "report-groups", "aria-label": t("Group by") },
    ["week", "team", "agent"].map((g) =>
      h("a", {
        href: withParams(route, { group: g }),
        class: g === group ? "current" : null,
        "aria-current": g === group ? "page" : null,
        text: g === "week" ? t("Per week") : g === "team" ? t("Per team") : t("Per agent"),
      }),
    ),
  );
  const query = new URLSearchParams({ from: range.from, to: range.to, group }).toString();
  const download = h("a", {
    class: "secondary",
    id: "report-csv",
    href: `/api/v1/companies/${encodeURIComponent(store.slug)}/reports.csv?${query}`,
    download: "",
    text: t("Download CSV"),
  });
  const body = h("div", { class: "report-body" }, h("p", { class: "muted", text: t("Loading…") }));

  root.append(
    h(
      "div",
      { class: "page-inner page-wide" },
      h("h1", { tabindex: "-1", text: t("Reports") }),
      h(
        "div",
        { class: "report-controls" },
        h(
          "label",
          { class: "field" },
          h("span", { text: t("Period") }),
          periodSelect,
        ),
        custom,
        h("span", { class: "report-spacer" }),
        download,
      ),
      groups,
      body,
    ),
  );

  let alive = true;
  (async () => {
    try {
      const report = await get(`/companies/${encodeURIComponent(store.slug)}/reports?${query}`);
      if (!alive) return;
      const channels = Object.entries(report.total.by_channel).map(([c, n]) => [
        channelName(c),
        n,
      ]);
      const topics = report.topics.map((x) => [x.name ?? t("No topic"), x.conversations]);
      body.replaceChildren(
        h("p", {
          class: "muted report-range",
          text: t("{from} to {to}, in the company's time zone ({zone})", {
            from: report.from,
            to: report.to,
            zone: report.timezone,
          }),
        }),
        h(
          "section",
          { class: "panel" },
          h("h2", { text: t("Promises and response times") }),
          mainTable(report),
        ),
        h(
          "div",
          { class: "report-volumes" },
          volumeTable("report-channels", t("Conversations by channel"), channels),
          volumeTable("report-topics", t("Conversations by topic"), topics),
        ),
      );
    } catch (e) {
      if (alive) body.replaceChildren(h("p", { class: "form-error", role: "alert", text: messageFor(e) }));
    }
  })();
  return () => {
    alive = false;
  };
}
