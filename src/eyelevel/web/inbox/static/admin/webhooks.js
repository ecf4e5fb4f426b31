// Webhooks: signed HTTP callbacks to the company's systems (Standard Webhooks). Endpoints are
// created with the secret shown once, edited, rotated, disabled, tested; each has a delivery
// log with replay of one delivery or of a time range.
import { get, post } from "../messenger/api.js";
import { announce, h } from "../messenger/dom.js";
import { t } from "../messenger/i18n.js";
import { del, patch } from "../api.js";
import { messageFor } from "../errors.js";
import { dateTime } from "../format.js";
import { confirmDialog } from "../views/dialog.js";
import { errorLine, field, run, uid } from "../views/form.js";
import { fill } from "../fill.js";

const EVENT_TYPES = [
  ["conversation.created", () => t("A conversation was started")],
  ["conversation.assigned", () => t("A conversation was assigned")],
  ["conversation.status_changed", () => t("A conversation's status changed")],
  ["message.created", () => t("A message was written")],
  ["customer.shared_fields_changed", () => t("A customer changed what they share with us")],
];

function stateText(endpoint) {
  if (endpoint.enabled) return t("Active");
  if (endpoint.disabled_reason === "gone") return t("Disabled: the receiver answered 410 Gone");
  if (endpoint.disabled_reason === "failing") return t("Disabled: deliveries failed for days");
  return t("Disabled");
}

function deliveryState(delivery) {
  if (delivery.state === "succeeded") return t("Delivered");
  if (delivery.state === "failed") return t("Failed");
  return delivery.next_attempt_at
    ? t("Retry at {time}", { time: dateTime(delivery.next_attempt_at) })
    : t("Pending");
}

export function webhooksPage(root, { store }) {
  const base = `/companies/${store.slug}/webhooks`;
  const error = errorLine();
  let editing = null; // the endpoint whose values are in the form

  const url = field({
    label: t("URL"),
    type: "url",
    maxlength: 2000,
    placeholder: "https://",
    hint: t("Must start with https:// and be reachable from the internet."),
  });
  const description = field({ label: t("Description"), maxlength: 500 });
  const boxes = EVENT_TYPES.map(([type, label]) => {
    const id = uid("ev");
    const box = h("input", { type: "checkbox", id, value: type, checked: true });
    return { box, node: h("div", { class: "check" }, box, h("label", { for: id, text: label() })) };
  });
  const notesId = uid("notes");
  const notes = h("input", { type: "checkbox", id: notesId });
  const save = h("button", { type: "submit", class: "primary", text: t("Add endpoint") });
  const cancel = h("button", { type: "button", class: "secondary", text: t("Cancel") });
  cancel.hidden = true;
  const secret = h("div", { class: "secret-box", role: "region", "aria-label": t("Signing secret") });
  secret.hidden = true;
  const formTitle = h("h2", { id: "webhook-form", text: t("New endpoint") });
  const form = h(
    "form",
    { novalidate: true },
    url.node,
    description.node,
    h(
      "fieldset",
      { class: "checks" },
      h("legend", { text: t("Events") }),
      ...boxes.map((b) => b.node),
    ),
    h(
      "div",
      { class: "check" },
      notes,
      h("label", { for: notesId, text: t("Also send private notes") }),
    ),
    h("div", { class: "inline-form" }, save, cancel),
  );
  const body = h("tbody");
  const log = h("section", { class: "panel", "aria-labelledby": "webhook-log" });
  log.hidden = true;

  function reset() {
    editing = null;
    url.control.value = "";
    description.control.value = "";
    for (const b of boxes) b.box.checked = true;
    notes.checked = false;
    formTitle.textContent = t("New endpoint");
    save.textContent = t("Add endpoint");
    cancel.hidden = true;
  }

  function edit(endpoint) {
    editing = endpoint;
    url.control.value = endpoint.url;
    description.control.value = endpoint.description;
    for (const b of boxes) b.box.checked = endpoint.event_types.includes(b.box.value);
    notes.checked = endpoint.include_notes;
    formTitle.textContent = t("Edit endpoint");
    save.textContent = t("Save");
    cancel.hidden = false;
    url.control.focus();
  }

  function showSecret(endpoint) {
    const value = h("input", {
      type: "text",
      readOnly: true,
      value: endpoint.secret,
      class: "token-value",
      id: "new-webhook-secret",
    });
    const copy = h("button", { type: "button", class: "secondary", text: t("Copy") });
    copy.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(endpoint.secret);
        copy.textContent = t("Copied");
        announce(t("Copied."));
      } catch {
        value.select();
      }
    });
    fill(
      secret,
      h("p", {
        class: "secret-title",
        text: t("Copy the signing secret now: it is shown only once."),
      }),
      h("label", { for: "new-webhook-secret", text: t("Secret for {url}", { url: endpoint.url }) }),
      h("div", { class: "inline-form" }, value, copy),
    );
    secret.hidden = false;
    value.focus();
    value.select();
  }

  cancel.addEventListener("click", reset);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const values = {
      url: url.control.value.trim(),
      description: description.control.value.trim(),
      event_types: boxes.filter((b) => b.box.checked).map((b) => b.box.value),
      include_notes: notes.checked,
    };
    if (!values.url) {
      error.show(t("Please enter the URL."));
      return;
    }
    if (!values.event_types.length) {
      error.show(t("Choose at least one event."));
      return;
    }
    run(
      save,
      error,
      async () => {
        if (editing) {
          await patch(`${base}/${editing.id}`, values);
          announce(t("Endpoint saved."));
        } else {
          showSecret(await post(base, values));
        }
        reset();
        await load();
      },
      messageFor,
    );
  });

  function action(text, label, handler, cls = "secondary") {
    const button = h("button", { type: "button", class: cls, text, "aria-label": label });
    button.addEventListener("click", () => run(button, error, () => handler(button), messageFor));
    return button;
  }

  function row(endpoint) {
    const name = endpoint.description || endpoint.url;
    const actions = [
      action(t("Edit"), t("Edit {name}", { name }), async () => edit(endpoint)),
      action(
        endpoint.enabled ? t("Disable") : t("Enable"),
        endpoint.enabled ? t("Disable {name}", { name }) : t("Enable {name}", { name }),
        async () => {
          await patch(`${base}/${endpoint.id}`, { enabled: !endpoint.enabled });
          announce(endpoint.enabled ? t("Endpoint disabled.") : t("Endpoint enabled."));
          await load();
        },
      ),
      action(t("Send test"), t("Send a test event to {name}", { name }), async () => {
        await post(`${base}/${endpoint.id}/test`);
        announce(t("Test event queued."));
        await showLog(endpoint);
      }),
      action(t("Rotate secret"), t("Rotate the secret of {name}", { name }), async () => {
        const sure = await confirmDialog(
          t("Rotate the signing secret?"),
          t("For 24 hours deliveries carry signatures with the old and the new secret."),
          t("Rotate secret"),
        );
        if (!sure) return;
        showSecret(await post(`${base}/${endpoint.id}/rotate`));
        await load();
      }),
      action(t("Delivery log"), t("Delivery log of {name}", { name }), () => showLog(endpoint)),
      action(
        t("Delete"),
        t("Delete {name}", { name }),
        async () => {
          const sure = await confirmDialog(
            t("Delete this endpoint?"),
            t("Its delivery log is deleted with it."),
            t("Delete"),
            { danger: true },
          );
          if (!sure) return;
          await del(`${base}/${endpoint.id}`);
          announce(t("Endpoint deleted."));
          log.hidden = true;
          await load();
        },
        "danger-link",
      ),
    ];
    return h(
      "tr",
      { class: endpoint.enabled ? "" : "inactive" },
      h(
        "th",
        { scope: "row" },
        h("code", { text: endpoint.url }),
        endpoint.description ? h("div", { class: "muted", text: endpoint.description }) : null,
      ),
      h("td", { text: endpoint.event_types.join(", ") }),
      h("td", { text: stateText(endpoint) }),
      h("td", {}, h("div", { class: "inline-form" }, ...actions)),
    );
  }

  async function showLog(endpoint) {
    const page = await get(`${base}/${endpoint.id}/deliveries`);
    const logError = errorLine();
    const since = field({ label: t("From"), type: "datetime-local" });
    const until = field({ label: t("Until"), type: "datetime-local" });
    const replayRange = h("button", { type: "submit", class: "secondary", text: t("Replay") });
    const rangeForm = h(
      "form",
      { class: "inline-form", novalidate: true },
      since.node,
      until.node,
      replayRange,
    );
    rangeForm.addEventListener("submit", (event) => {
      event.preventDefault();
      if (!since.control.value) {
        logError.show(t("Choose the start of the time range."));
        return;
      }
      const range = { since: new Date(since.control.value).toISOString() };
      if (until.control.value) range.until = new Date(until.control.value).toISOString();
      run(
        replayRange,
        logError,
        async () => {
          const done = await post(`${base}/${endpoint.id}/replay`, range);
          announce(t("{count} deliveries queued again.", { count: done.replayed }));
          await showLog(endpoint);
        },
        messageFor,
      );
    });
    const rows = page.items.map((d) => {
      const last = d.attempt_log[0];
      const replay = h("button", {
        type: "button",
        class: "secondary",
        text: t("Replay"),
        "aria-label": t("Replay {id}", { id: d.msg_id }),
      });
      replay.hidden = d.state === "pending";
      replay.addEventListener("click", () =>
        run(
          replay,
          logError,
          async () => {
            await post(`${base}/${endpoint.id}/replay`, { delivery_id: d.id });
            announce(t("Delivery queued again."));
            await showLog(endpoint);
          },
          messageFor,
        ),
      );
      const outcome = last
        ? last.error || String(last.status_code)
        : t("Not attempted yet");
      return h(
        "tr",
        {},
        h("td", { text: dateTime(d.created_at) }),
        h("th", { scope: "row" }, h("code", { text: d.event_type })),
        h("td", { text: deliveryState(d) }),
        h("td", { text: String(d.attempts) }),
        h(
          "td",
          {},
          outcome,
          last ? h("span", { class: "muted", text: ` · ${last.latency_ms} ms` }) : null,
          last && last.response
            ? h(
                "details",
                {},
                h("summary", { text: t("Response") }),
                h("pre", { class: "snippet", text: last.response }),
              )
            : null,
        ),
        h("td", {}, replay),
      );
    });
    fill(
      log,
      h("h2", { id: "webhook-log", text: t("Delivery log: {url}", { url: endpoint.url }) }),
      rangeForm,
      logError.node,
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { class: "table" },
          h("caption", { class: "sr-only", text: t("Deliveries") }),
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              h("th", { scope: "col", text: t("Created") }),
              h("th", { scope: "col", text: t("Event") }),
              h("th", { scope: "col", text: t("State") }),
              h("th", { scope: "col", text: t("Attempts") }),
              h("th", { scope: "col", text: t("Last answer") }),
              h("th", { scope: "col", text: t("Action") }),
            ),
          ),
          h(
            "tbody",
            {},
            ...(rows.length
              ? rows
              : [h("tr", {}, h("td", { colspan: 6, class: "muted", text: t("No deliveries yet.") }))]),
          ),
        ),
      ),
    );
    log.hidden = false;
  }

  async function load() {
    const endpoints = await get(base);
    fill(
      body,
      ...(endpoints.length
        ? endpoints.map(row)
        : [h("tr", {}, h("td", { colspan: 4, class: "muted", text: t("No endpoints yet.") }))]),
    );
  }

  root.append(
    h("h1", { tabindex: "-1", text: t("Webhooks") }),
    h("p", {
      class: "hint",
      text: t(
        "Webhooks tell your systems about new conversations and messages, signed by the Standard Webhooks scheme. The integration guide shows how to check the signature.",
      ),
    }),
    h(
      "section",
      { class: "panel", "aria-labelledby": "webhook-form" },
      formTitle,
      form,
      error.node,
      secret,
    ),
    h(
      "section",
      { class: "panel", "aria-labelledby": "all-webhooks" },
      h("h2", { id: "all-webhooks", text: t("Endpoints") }),
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { class: "table" },
          h("caption", { class: "sr-only", text: t("Endpoints") }),
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              h("th", { scope: "col", text: t("URL") }),
              h("th", { scope: "col", text: t("Events") }),
              h("th", { scope: "col", text: t("State") }),
              h("th", { scope: "col", text: t("Actions") }),
            ),
          ),
          body,
        ),
      ),
    ),
    log,
  );
  load().catch((failure) => error.show(messageFor(failure)));
}
