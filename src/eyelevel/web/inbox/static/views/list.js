// The middle column: the conversations of the chosen view (or the search results), kept
// up to date live. A conversation that stops matching (someone took it, it was resolved)
// leaves the list at once; the first page is fetched again shortly after any change.
import { get } from "../messenger/api.js";
import { announce, h } from "../messenger/dom.js";
import { t, tn } from "../messenger/i18n.js";
import { fullDate, listTime } from "../messenger/time.js";
import { messageFor } from "../errors.js";
import {
  ahead,
  customerName,
  dueLevel,
  dueText,
  since,
  slaClock,
  statusName,
} from "../format.js";
import { icon } from "../icons.js";
import { go } from "../router.js";
import { preview } from "../store.js";
import { uid } from "./form.js";
import { holdBadge } from "./hold.js";
import { fill } from "../fill.js";

const PAGE = 40;
const REFRESH_DELAY = 1200;
const TICK = 30000;

export function viewTitle(store, view) {
  if (view === "mine") return t("Mine");
  if (view === "unassigned") return t("Unassigned");
  if (view === "all") return t("All");
  if (view === "mentions") return t("Mentions");
  const team = view?.startsWith("team-") ? store.team(Number(view.slice(5))) : null;
  return team ? team.name : t("Conversations");
}

// the API's filters for a view
function apiParams(store, route) {
  const params = { limit: String(PAGE) };
  const view = route.view;
  if (view === "mine") params.owner = "me";
  else if (view === "unassigned") params.owner = "unassigned";
  else if (view === "mentions") params.mentions = "true";
  else if (view?.startsWith("team-")) params.owner = `team:${Number(view.slice(5))}`;
  params.status = route.params.get("status") || "open";
  params.sort = route.params.get("sort") || "waiting";
  const label = route.params.get("label");
  if (label) params.label = label;
  const topic = route.params.get("topic");
  if (topic) params.topic = topic;
  return params;
}

// Whether a conversation belongs in a view, as far as the client can tell (the refetch that
// follows has the last word; mentions are the server's to decide).
function matches(store, route, c) {
  const status = route.params.get("status") || "open";
  if (c.status !== status) return false;
  // restricted (its customer deleted their account, under legal hold): in no list
  if (c.customer?.erased) return false;
  const label = Number(route.params.get("label"));
  if (label && !(c.labels || []).includes(label)) return false;
  const topic = Number(route.params.get("topic"));
  if (topic && c.topic_id !== topic) return false;
  const owner = c.owner;
  switch (route.view) {
    case "mine":
      return owner?.type === "agent" && owner.id === store.me.id;
    case "unassigned":
      return !owner || owner.type === "team";
    case "all":
    case "mentions":
      return true;
    default:
      if (route.view?.startsWith("team-")) {
        return owner?.type === "team" && owner.id === Number(route.view.slice(5));
      }
      return true;
  }
}

function activity(c) {
  return c.last_message_at || c.updated_at || c.created_at || "";
}

function dueOf(c) {
  return c.status === "resolved" ? null : slaClock(c)?.due_at || null;
}

function compare(sort) {
  if (sort === "due") {
    return (a, b) => {
      const da = dueOf(a);
      const db = dueOf(b);
      if (da && db) return da < db ? -1 : da > db ? 1 : a.id - b.id;
      if (da) return -1;
      if (db) return 1;
      return activity(a) < activity(b) ? 1 : activity(a) > activity(b) ? -1 : b.id - a.id;
    };
  }
  if (sort === "newest") {
    return (a, b) => (activity(a) < activity(b) ? 1 : activity(a) > activity(b) ? -1 : b.id - a.id);
  }
  return (a, b) => {
    const wa = a.waiting_since;
    const wb = b.waiting_since;
    if (wa && wb) return wa < wb ? -1 : wa > wb ? 1 : a.id - b.id;
    if (wa) return -1;
    if (wb) return 1;
    return activity(a) < activity(b) ? 1 : activity(a) > activity(b) ? -1 : b.id - a.id;
  };
}

// A search hit's excerpt: the server sends it in pieces, those that matched marked; each
// piece becomes a text node (a matched one inside <mark>), never HTML.
export function highlighted(hit) {
  const fragment = document.createDocumentFragment();
  const parts = hit.parts || [{ text: hit.snippet || "", match: false }];
  for (const part of parts) {
    fragment.append(part.match ? h("mark", { text: part.text }) : part.text);
  }
  return fragment;
}

export function listPane(store, { linkFor }) {
  const mine = (message) => store.author(message)?.id === store.me.id;
  let route = null;
  let key = null;
  let items = [];
  let cursor = null;
  let results = null; // search hits, or null in a view
  let loadedMore = false;
  let refreshTimer = null;
  let generation = 0;

  const title = h("h1", { class: "list-title", id: "list-title", tabindex: "-1" });
  const summary = h("p", { class: "list-summary", role: "status" });
  const sortId = uid("s");
  const sort = h(
    "select",
    { id: sortId, class: "sort" },
    h("option", { value: "waiting", text: t("Oldest waiting first") }),
    h("option", { value: "newest", text: t("Newest first") }),
    h("option", { value: "due", text: t("Due first") }),
  );
  const sortBox = h(
    "div",
    { class: "sort-box" },
    h("label", { for: sortId, class: "sr-only", text: t("Sort") }),
    sort,
  );
  function goWith(key, value) {
    const params = new URLSearchParams(route.params);
    if (value) params.set(key, value);
    else params.delete(key);
    const q = params.toString();
    const open = route.conversation ? "/" + route.conversation : "";
    go("/inbox/" + route.view + open + (q ? "?" + q : ""));
  }
  sort.addEventListener("change", () => goWith("sort", sort.value === "waiting" ? null : sort.value));
  const topicId = uid("tf");
  const topicFilter = h("select", { id: topicId, class: "sort topic-filter" });
  const topicBox = h(
    "div",
    { class: "sort-box" },
    h("label", { for: topicId, class: "sr-only", text: t("Topic") }),
    topicFilter,
  );
  topicFilter.addEventListener("change", () => goWith("topic", topicFilter.value || null));
  function drawTopics() {
    const chosen = route?.params.get("topic") || "";
    const shown = store.topics.filter((topic) => topic.active || String(topic.id) === chosen);
    fill(
      topicFilter,
      h("option", { value: "", text: t("All topics") }),
      shown.map((topic) => h("option", { value: String(topic.id), text: topic.name })),
    );
    topicFilter.value = chosen;
    topicBox.hidden = !shown.length || Boolean(results);
  }
  const ul = h("ul", { class: "conv-list", "aria-labelledby": "list-title" });
  const more = h("button", { type: "button", class: "link more", text: t("Load more") });
  more.hidden = true;
  const empty = h("p", { class: "list-empty" });
  empty.hidden = true;
  const node = h(
    "section",
    { class: "list-pane", "aria-labelledby": "list-title" },
    h(
      "div",
      { class: "list-head" },
      h("div", { class: "list-top" }, title, summary),
      h("div", { class: "list-filters" }, topicBox, sortBox),
    ),
    h("div", { class: "list-scroll" }, ul, empty, more),
  );

  function keyOf(r) {
    if (r.section === "search") return `search|${r.params.get("q") || ""}`;
    const p = r.params;
    return `inbox|${r.view}|${p.get("status") || "open"}|${p.get("sort") || "waiting"}|${p.get("label") || ""}|${p.get("topic") || ""}`;
  }

  function emailChip() {
    const label = t("By email");
    return h(
      "span",
      { class: "channel-chip", title: label },
      icon("mail"),
      h("span", { text: label }),
    );
  }

  function itemNode(c, current) {
    const name = customerName(c);
    const last = c.last_message;
    const waiting = c.waiting_since && c.status !== "resolved";
    const labels = (c.labels || [])
      .map((id) => store.label(id))
      .filter(Boolean)
      .map((l) => {
        const chip = h(
          "span",
          { class: "label-chip small" },
          h("span", { class: "swatch", "aria-hidden": "true" }),
          l.name,
        );
        chip.firstChild.style.backgroundColor = l.color;
        return chip;
      });
    const showOwner = route.view !== "mine";
    const owner = c.owner ? store.ownerName(c.owner) : null;
    const unread = c.unread || 0;
    const clock = c.status === "resolved" ? null : slaClock(c);
    const level = clock ? dueLevel(clock) : null;
    const due = clock
      ? h(
          "span",
          {
            class: `due-chip due-${level}`,
            "data-clock": JSON.stringify(clock),
            title: clock.due_at
              ? t("Answer promised by {time}", { time: fullDate(clock.due_at) })
              : t("Paused while we wait for the customer"),
          },
          icon("clock"),
          h("span", { class: "due-text", text: dueText(clock) }),
        )
      : null;
    const link = h(
      "a",
      {
        href: linkFor(c.id),
        class: `conv-item${current ? " current" : ""}${unread ? " unread" : ""}`,
        "data-id": c.id,
        "aria-current": current ? "true" : null,
      },
      h(
        "span",
        { class: "conv-line" },
        h("span", { class: "conv-name", text: name }),
        waiting
          ? h(
              "span",
              {
                class: "conv-wait",
                title: t("Waiting since {time}", { time: fullDate(c.waiting_since) }),
              },
              icon("clock"),
              h("span", { class: "sr-only", text: t("waiting") + " " }),
              h("span", {
                class: "wait-text",
                "data-since": c.waiting_since,
                text: since(c.waiting_since),
              }),
            )
          : c.status === "snoozed" && c.snoozed_until
            ? h("time", {
                class: "conv-time",
                datetime: c.snoozed_until,
                text: t("until {time}", { time: ahead(c.snoozed_until) }),
              })
            : h("time", {
                class: "conv-time",
                datetime: activity(c),
                text: listTime(activity(c)),
              }),
      ),
      h(
        "span",
        { class: "conv-preview" },
        last?.kind === "note"
          ? h("span", { class: "pv-kind pv-note", text: t("Note") + ": " })
          : null,
        last?.kind === "agent"
          ? h("span", {
              class: "pv-kind",
              text: (mine(last) ? t("You") : last.author?.name || t("Reply")) + ": ",
            })
          : null,
        preview(last) || c.subject || "",
      ),
      h(
        "span",
        { class: "conv-tags" },
        due,
        c.status !== "open"
          ? h("span", { class: `status-pill small status-${c.status}`, text: statusName(c.status) })
          : null,
        c.channel === "email" ? emailChip() : null,
        store.holds.has(c.id) ? holdBadge(store.holds.get(c.id), { small: true }) : null,
        c.topic_id && store.topic(c.topic_id)
          ? h("span", { class: "topic-chip", text: store.topic(c.topic_id).name })
          : null,
        labels,
        showOwner && owner ? h("span", { class: "conv-owner", text: owner }) : null,
        unread
          ? h(
              "span",
              { class: "unread-badge" },
              h("span", { "aria-hidden": "true", text: String(unread) }),
              h("span", {
                class: "sr-only",
                text: tn("{n} unread message", "{n} unread messages", unread),
              }),
            )
          : null,
      ),
    );
    return h("li", {}, link);
  }

  function hitNode(hit, current) {
    const q = route.params.get("q") || "";
    const link = h(
      "a",
      {
        href:
          "#/search/" + hit.conversation_id + "?" + new URLSearchParams({ q, at: String(hit.seq) }),
        class: `conv-item hit${current ? " current" : ""}`,
        "data-id": hit.conversation_id,
        "aria-current": current ? "true" : null,
      },
      h(
        "span",
        { class: "conv-line" },
        h("span", { class: "conv-name", text: hit.customer?.name || t("Customer") }),
        h("time", { class: "conv-time", datetime: hit.created_at, text: listTime(hit.created_at) }),
      ),
      h(
        "span",
        { class: "conv-preview snippet" },
        hit.kind === "note"
          ? h("span", { class: "pv-kind pv-note", text: t("Note") + ": " })
          : null,
        highlighted(hit),
      ),
    );
    return h("li", {}, link);
  }

  function draw() {
    const focusedId = node.contains(document.activeElement)
      ? document.activeElement.dataset?.id
      : null;
    const currentId = route.conversation;
    if (results) {
      fill(
        ul,
        ...results.map((hit) =>
          hitNode(
            hit,
            hit.conversation_id === currentId && String(hit.seq) === route.params.get("at"),
          ),
        ),
      );
      empty.hidden = results.length > 0;
      empty.textContent = t("Nothing found. Try another word.");
      summary.textContent = tn("{n} result", "{n} results", results.length);
      more.hidden = true;
    } else {
      items.sort(compare(route.params.get("sort") || "waiting"));
      fill(ul, ...items.map((c) => itemNode(c, c.id === currentId)));
      empty.hidden = items.length > 0;
      empty.textContent = t("Nothing here. Well done!");
      summary.textContent = cursor
        ? t("more than {n}", { n: items.length })
        : tn("{n} conversation", "{n} conversations", items.length);
      more.hidden = !cursor;
    }
    if (focusedId) ul.querySelector(`[data-id="${CSS.escape(focusedId)}"]`)?.focus();
  }

  function drawTimes() {
    for (const el of ul.querySelectorAll(".wait-text")) el.textContent = since(el.dataset.since);
    for (const el of ul.querySelectorAll(".due-chip")) {
      const clock = JSON.parse(el.dataset.clock);
      el.className = `due-chip due-${dueLevel(clock)}`;
      el.querySelector(".due-text").textContent = dueText(clock);
    }
  }
  const ticker = setInterval(drawTimes, TICK);

  async function load() {
    generation += 1;
    const mine = generation;
    clearTimeout(refreshTimer);
    if (route.section === "search") {
      const q = route.params.get("q") || "";
      title.textContent = t("Search results");
      sortBox.hidden = true;
      topicBox.hidden = true;
      results = [];
      items = [];
      summary.textContent = t("Searching…");
      fill(ul);
      if (!q.trim()) {
        draw();
        return;
      }
      try {
        const query = new URLSearchParams({ q, limit: "30" });
        const found = await get(`/companies/${store.slug}/search?${query}`);
        if (mine !== generation) return;
        results = found.items;
        draw();
      } catch (error) {
        if (mine !== generation) return;
        summary.textContent = "";
        empty.hidden = false;
        empty.textContent = messageFor(error);
      }
      return;
    }
    results = null;
    sortBox.hidden = false;
    drawTopics();
    title.textContent = viewTitle(store, route.view);
    sort.value = route.params.get("sort") || "waiting";
    summary.textContent = t("Loading…");
    try {
      const page = await store.list(apiParams(store, route));
      if (mine !== generation) return;
      items = page.items;
      cursor = page.next_cursor;
      loadedMore = false;
      draw();
    } catch (error) {
      if (mine !== generation) return;
      items = [];
      cursor = null;
      fill(ul);
      summary.textContent = "";
      empty.hidden = false;
      empty.textContent = messageFor(error);
    }
  }

  // the first page again, keeping what "Load more" added beyond it
  async function refresh() {
    if (!route || results) return;
    const mine = generation;
    try {
      const page = await store.list(apiParams(store, route));
      if (mine !== generation) return;
      const fresh = new Map(page.items.map((c) => [c.id, c]));
      const extra = loadedMore
        ? items.filter((c) => !fresh.has(c.id) && matches(store, route, c))
        : [];
      items = [...page.items, ...extra];
      if (!loadedMore) cursor = page.next_cursor;
      draw();
    } catch {
      // the next event or a reconnect tries again
    }
  }

  function scheduleRefresh() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(refresh, REFRESH_DELAY);
  }

  more.addEventListener("click", async () => {
    if (!cursor) return;
    more.disabled = true;
    try {
      const page = await store.list({ ...apiParams(store, route), cursor });
      const known = new Set(items.map((c) => c.id));
      items = [...items, ...page.items.filter((c) => !known.has(c.id))];
      cursor = page.next_cursor;
      loadedMore = true;
      draw();
    } catch (error) {
      summary.textContent = messageFor(error);
    } finally {
      more.disabled = false;
    }
  });

  const offs = [
    store.on("conversation", ({ id, conversation }) => {
      if (!route || results) return;
      const at = items.findIndex((c) => c.id === id);
      const fresh = conversation || store.conversations.get(id);
      if (at >= 0) {
        if (fresh && !matches(store, route, fresh) && route.view !== "mentions")
          items.splice(at, 1);
        else if (fresh) items[at] = fresh;
      } else if (fresh && route.view !== "mentions" && matches(store, route, fresh)) {
        items.push(fresh);
        announce(
          t("New in {view}: {name}", { view: title.textContent, name: customerName(fresh) }),
        );
      }
      draw();
      scheduleRefresh();
    }),
    store.on("thread", ({ id, message }) => {
      if (!message || results) return;
      if (items.some((c) => c.id === id)) draw();
      scheduleRefresh();
    }),
    store.on("resync", () => {
      if (route) load();
    }),
    store.on("labels", () => route && draw()),
    store.on("holds", () => route && !results && draw()),
    store.on("topics", () => {
      if (!route) return;
      drawTopics();
      if (!results) draw();
    }),
    store.on("gone", ({ id }) => {
      const at = items.findIndex((c) => c.id === id);
      if (at >= 0 && !results) {
        items.splice(at, 1);
        draw();
      }
    }),
    store.on("staff", () => {
      if (route && !results) {
        title.textContent = viewTitle(store, route.view);
        draw();
      }
    }),
  ];

  return {
    node,
    show(next) {
      const nextKey = keyOf(next);
      const changed = nextKey !== key;
      route = next;
      key = nextKey;
      drawTopics();
      if (changed) {
        const fromSidebar = document.activeElement?.closest?.(".sidebar, .topbar");
        load();
        if (fromSidebar && document.activeElement?.closest?.(".sidebar"))
          title.focus({ preventScroll: true });
      } else {
        draw();
      }
    },
    // j/k: the next or previous conversation of the list
    move(step) {
      const links = [...ul.querySelectorAll("a.conv-item")];
      if (!links.length) return;
      const at = links.findIndex((a) => a.classList.contains("current"));
      const next =
        at < 0
          ? step > 0
            ? 0
            : links.length - 1
          : Math.min(Math.max(at + step, 0), links.length - 1);
      const target = links[next];
      location.hash = target.getAttribute("href");
      target.focus({ preventScroll: false });
    },
    destroy() {
      clearInterval(ticker);
      clearTimeout(refreshTimer);
      offs.forEach((off) => off());
    },
  };
}
