// The complaint case beside a conversation (Reklamation & Kulanz): open a case with its facts
// and evidence; see what the goodwill policy lets me grant; grant, ask a lead, reject; a lead
// approves or declines a pending request in one step; mark a kept promise fulfilled. The trail
// shows every step with who and which rule. Live: ``complaint.changed`` redraws it.
import { ApiError, get, post } from "../messenger/api.js";
import { announce, h } from "../messenger/dom.js";
import { t } from "../messenger/i18n.js";
import { put } from "../api.js";
import { messageFor } from "../errors.js";
import { dateTime } from "../format.js";
import { fill } from "../fill.js";
import { errorLine, field, run } from "./form.js";

const REMEDIES = ["replacement", "repair", "refund", "voucher"];

export function remedyName(remedy) {
  return (
    {
      replacement: t("Replacement"),
      repair: t("Repair"),
      refund: t("Refund"),
      voucher: t("Voucher"),
    }[remedy] || remedy
  );
}

export function caseStateName(state) {
  return (
    {
      open: t("Open"),
      approval_pending: t("Waiting for approval"),
      granted: t("Granted"),
      rejected: t("Rejected"),
      fulfilled: t("Fulfilled"),
    }[state] || state
  );
}

function stepName(kind) {
  return (
    {
      opened: t("opened the case"),
      updated: t("changed the facts"),
      granted: t("granted"),
      approval_requested: t("asked for approval"),
      approved: t("approved"),
      declined: t("declined the request"),
      rejected: t("rejected the complaint"),
      fulfilled: t("marked as fulfilled"),
      overdue: t("Overdue: the promised date passed"),
    }[kind] || kind
  );
}

const money = new Intl.NumberFormat(document.documentElement.lang === "de" ? "de-DE" : "en-GB", {
  style: "currency",
  currency: "EUR",
});

export function euros(cents) {
  return cents === null || cents === undefined ? "" : money.format(cents / 100);
}

// "12,50" or "12.50" → 1250; null when it is not an amount
function cents(text) {
  const clean = text.trim().replace(/\s|€/g, "").replace(",", ".");
  if (!/^\d+(\.\d{1,2})?$/.test(clean)) return null;
  return Math.round(Number(clean) * 100);
}

function day(iso) {
  return iso ? new Date(`${iso}T12:00:00`).toLocaleDateString(document.documentElement.lang) : "";
}

function remedyField(label, value) {
  return field({
    label,
    tag: "select",
    options: REMEDIES.map((r) => [r, remedyName(r)]),
    value,
  });
}

export function complaintSection(store) {
  const node = h("section", { class: "complaint", "aria-label": t("Complaint") });
  let conversation = null;
  let current = null; // the case, null: none, undefined: not loaded
  let editing = false;

  function attachmentsOfThread() {
    const thread = store.threads.get(conversation.id);
    return (thread?.items || []).flatMap((m) => m.attachments || []);
  }

  function factsForm(existing) {
    const error = errorLine();
    const product = field({ label: t("Product"), maxlength: 200, value: existing?.product });
    const reference = field({
      label: t("Order or reference"),
      maxlength: 100,
      value: existing?.reference,
    });
    const bought = field({
      label: t("Purchase date"),
      type: "date",
      value: existing?.purchase_date || "",
      max: new Date().toISOString().slice(0, 10),
    });
    const category = field({ label: t("Product category"), maxlength: 80, value: existing?.category });
    const remedy = remedyField(t("Requested remedy"), existing?.requested_remedy || "replacement");
    const amount = field({
      label: t("Amount (€)"),
      inputmode: "decimal",
      value: existing ? (existing.amount_cents / 100).toFixed(2) : "",
    });
    const chosen = new Set((existing?.evidence || []).map((a) => a.id));
    const files = attachmentsOfThread();
    const evidence = files.map((a) => {
      const box = h("input", { type: "checkbox", value: String(a.id) });
      box.checked = chosen.has(a.id);
      return { box, node: h("label", { class: "check" }, box, ` ${a.name}`) };
    });
    const save = h("button", {
      type: "submit",
      class: "primary small",
      text: existing ? t("Save facts") : t("Open case"),
    });
    const cancel = h("button", { type: "button", class: "secondary small", text: t("Cancel") });
    cancel.addEventListener("click", () => {
      editing = false;
      draw();
    });
    const form = h(
      "form",
      { class: "complaint-form", novalidate: true },
      product.node,
      reference.node,
      bought.node,
      category.node,
      remedy.node,
      amount.node,
      h(
        "fieldset",
        { class: "evidence" },
        h("legend", { text: t("Evidence") }),
        evidence.length
          ? evidence.map((e) => e.node)
          : h("p", { class: "muted", text: t("No files in this conversation yet.") }),
      ),
      error.node,
      h("div", { class: "row-actions" }, save, cancel),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const value = cents(amount.control.value);
      if (!product.control.value.trim()) {
        error.show(t("Please name the product."));
        product.control.focus();
        return;
      }
      if (value === null) {
        error.show(t("Enter the amount in euros, e.g. 49.99."));
        amount.control.focus();
        return;
      }
      const body = {
        product: product.control.value,
        reference: reference.control.value,
        purchase_date: bought.control.value || null,
        category: category.control.value,
        requested_remedy: remedy.control.value,
        amount_cents: value,
        evidence: evidence.filter((e) => e.box.checked).map((e) => Number(e.box.value)),
      };
      run(
        save,
        error,
        async () => {
          const path = `/conversations/${conversation.id}/complaint`;
          current = existing ? await put(path, body) : await post(path, body);
          editing = false;
          announce(existing ? t("The facts were saved.") : t("The complaint case was opened."));
          draw();
        },
        messageFor,
      );
    });
    return form;
  }

  function verdictLine(c) {
    const v = c.verdict;
    if (!v) return null;
    if (v.rule_id === null) {
      return h("p", {
        class: "verdict none",
        text: t("No goodwill rule covers this case: a lead decides."),
      });
    }
    const what = v.agent_remedies.map(remedyName).join(", ");
    const limit = v.agent_max_amount_cents === null ? "" : euros(v.agent_max_amount_cents);
    let text;
    if (!what) text = t("Rule “{rule}”: agents grant nothing directly.", { rule: v.rule_name });
    else if (limit) {
      text = t("Rule “{rule}”: you may grant {what} up to {limit}.", {
        rule: v.rule_name,
        what,
        limit,
      });
    } else text = t("Rule “{rule}”: you may grant {what}.", { rule: v.rule_name, what });
    return h("p", { class: "verdict", text });
  }

  function allowed(c, remedy, amount) {
    const v = c.verdict;
    if (c.may_decide) return true;
    if (!v || v.rule_id === null || !v.agent_remedies.includes(remedy)) return false;
    return v.agent_max_amount_cents === null || amount <= v.agent_max_amount_cents;
  }

  function decisionForm(c) {
    const error = errorLine();
    const remedy = remedyField(t("Remedy"), c.requested_remedy);
    const amount = field({
      label: t("Amount (€)"),
      inputmode: "decimal",
      value: (c.amount_cents / 100).toFixed(2),
    });
    const promise = field({
      label: t("Promise to the customer"),
      maxlength: 200,
      placeholder: t("e.g. The replacement ships by Friday"),
    });
    const due = field({
      label: t("Due by"),
      type: "date",
      min: new Date().toISOString().slice(0, 10),
    });
    const note = field({ label: t("Internal note"), tag: "textarea", rows: 2, maxlength: 2000 });
    const grant = h("button", { type: "button", class: "primary small", text: t("Grant") });
    const ask = h("button", { type: "button", class: "secondary small", text: t("Ask a lead") });
    const reject = h("button", { type: "button", class: "secondary small", text: t("Reject") });
    const hint = h("p", { class: "hint" });

    function refresh() {
      const value = cents(amount.control.value);
      const ok = value !== null && allowed(c, remedy.control.value, value);
      grant.hidden = !ok;
      ask.hidden = ok || c.may_decide;
      hint.textContent = ok
        ? ""
        : t("This is beyond what you may grant: a lead has to approve it.");
    }
    remedy.control.addEventListener("change", refresh);
    amount.control.addEventListener("input", refresh);
    refresh();

    function send(button, kind) {
      const value = cents(amount.control.value);
      const offers = kind !== "rejected";
      if (offers && value === null) {
        error.show(t("Enter the amount in euros, e.g. 49.99."));
        amount.control.focus();
        return;
      }
      if (offers && !promise.control.value.trim()) {
        error.show(t("Tell the customer what you promise."));
        promise.control.focus();
        return;
      }
      const body = offers
        ? {
            kind,
            remedy: remedy.control.value,
            amount_cents: value,
            promise: promise.control.value,
            promise_due: due.control.value || null,
            note: note.control.value,
          }
        : { kind, note: note.control.value };
      step(button, error, body);
    }
    grant.addEventListener("click", () => send(grant, "granted"));
    ask.addEventListener("click", () => send(ask, "approval_requested"));
    reject.addEventListener("click", () => send(reject, "rejected"));
    return h(
      "div",
      { class: "decision" },
      remedy.node,
      amount.node,
      promise.node,
      due.node,
      note.node,
      hint,
      error.node,
      h("div", { class: "row-actions" }, grant, ask, reject),
    );
  }

  function step(button, error, body) {
    run(
      button,
      error,
      async () => {
        current = await post(`/conversations/${conversation.id}/complaint/steps`, body);
        announce(caseStateName(current.state));
        draw();
      },
      messageFor,
    );
  }

  function approvalBox(c) {
    const error = errorLine();
    const request = h("p", {
      class: "pending",
      text: t("Requested: {remedy}, {amount}. Promise: “{promise}”", {
        remedy: remedyName(c.pending_remedy),
        amount: euros(c.pending_amount_cents),
        promise: c.promise,
      }),
    });
    if (!c.may_decide) {
      return h("div", { class: "approval" }, request, h("p", { class: "muted", text: t("A lead decides.") }));
    }
    const note = field({ label: t("Internal note"), tag: "textarea", rows: 2, maxlength: 2000 });
    const approve = h("button", { type: "button", class: "primary small", text: t("Approve") });
    const decline = h("button", { type: "button", class: "secondary small", text: t("Decline") });
    const reject = h("button", { type: "button", class: "secondary small", text: t("Reject") });
    approve.addEventListener("click", () => step(approve, error, { kind: "approved", note: note.control.value }));
    decline.addEventListener("click", () => step(decline, error, { kind: "declined", note: note.control.value }));
    reject.addEventListener("click", () => step(reject, error, { kind: "rejected", note: note.control.value }));
    return h(
      "div",
      { class: "approval" },
      request,
      note.node,
      error.node,
      h("div", { class: "row-actions" }, approve, decline, reject),
    );
  }

  function promiseBox(c) {
    const error = errorLine();
    const done = h("button", { type: "button", class: "primary small", text: t("Mark fulfilled") });
    done.addEventListener("click", () => step(done, error, { kind: "fulfilled" }));
    return h(
      "div",
      { class: "promise" },
      h("p", {
        text: t("Granted: {remedy}, {amount}", {
          remedy: remedyName(c.granted_remedy),
          amount: euros(c.granted_amount_cents),
        }),
      }),
      h("p", { class: "promise-text", text: `“${c.promise}”` }),
      c.promise_due ? h("p", { class: "muted", text: t("Due by {date}", { date: day(c.promise_due) }) }) : null,
      c.overdue_at && c.state === "granted"
        ? h("p", { class: "overdue", text: t("Overdue: the promised date has passed.") })
        : null,
      c.state === "granted" ? h("div", { class: "row-actions" }, done) : null,
      error.node,
    );
  }

  function ruleText(rule) {
    const text = t("rule “{rule}”", { rule });
    return ` · ${text}`;
  }

  function trail(c) {
    return h(
      "ol",
      { class: "trail", "aria-label": t("Trail") },
      c.steps.map((s) =>
        h(
          "li",
          {},
          h("span", { class: "trail-who", text: `${s.actor_name} ${stepName(s.kind)}`.trim() }),
          s.remedy ? ` · ${remedyName(s.remedy)} ${euros(s.amount_cents)}` : "",
          s.rule_name ? h("span", { class: "muted", text: ruleText(s.rule_name) }) : "",
          s.note ? h("span", { class: "trail-note", text: ` — ${s.note}` }) : "",
          h("span", { class: "trail-time muted", text: ` ${dateTime(s.created_at)}` }),
        ),
      ),
    );
  }

  function draw() {
    if (!conversation || current === undefined) {
      fill(node);
      return;
    }
    const heading = h("h3", { class: "panel-heading", text: t("Complaint") });
    if (current === null) {
      if (editing) {
        fill(node, heading, factsForm(null));
        return;
      }
      const start = h("button", { type: "button", class: "secondary small", text: t("Open a complaint case") });
      start.addEventListener("click", () => {
        editing = true;
        draw();
      });
      fill(node, heading, start);
      return;
    }
    const c = current;
    if (editing) {
      fill(node, heading, factsForm(c));
      return;
    }
    const edit = h("button", { type: "button", class: "link-btn", text: t("Edit facts") });
    edit.addEventListener("click", () => {
      editing = true;
      draw();
    });
    fill(
      node,
      heading,
      h("p", { class: `case-state state-${c.state}`, text: caseStateName(c.state) }),
      h(
        "dl",
        { class: "facts" },
        h("dt", { text: t("Product") }),
        h("dd", { text: c.product || t("Not yet known") }),
        c.reference ? [h("dt", { text: t("Reference") }), h("dd", { text: c.reference })] : null,
        c.purchase_date ? [h("dt", { text: t("Bought") }), h("dd", { text: day(c.purchase_date) })] : null,
        c.category ? [h("dt", { text: t("Category") }), h("dd", { text: c.category })] : null,
        h("dt", { text: t("Requested") }),
        h("dd", {
          text: c.requested_remedy
            ? `${remedyName(c.requested_remedy)}, ${euros(c.amount_cents)}`
            : t("Not yet known"),
        }),
        c.evidence.length
          ? [h("dt", { text: t("Evidence") }), h("dd", { text: c.evidence.map((a) => a.name).join(", ") })]
          : null,
      ),
      c.state === "open" ? edit : null,
      c.state === "open" || c.state === "approval_pending" ? verdictLine(c) : null,
      c.state === "open" ? decisionForm(c) : null,
      c.state === "approval_pending" ? approvalBox(c) : null,
      c.state === "granted" || c.state === "fulfilled" ? promiseBox(c) : null,
      trail(c),
    );
  }

  async function load() {
    const id = conversation?.id;
    if (!id) return;
    try {
      const got = await get(`/conversations/${id}/complaint`);
      if (conversation?.id === id) current = got;
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 404)) return;
      if (conversation?.id === id) current = null;
    }
    if (conversation?.id === id) draw();
  }

  store.on("complaint", ({ id }) => {
    if (conversation && id === conversation.id && !editing) load();
  });

  return {
    node,
    show(next) {
      if (next?.id !== conversation?.id) {
        current = undefined;
        editing = false;
        conversation = next;
        draw();
        load();
      } else conversation = next;
    },
  };
}
