// The goodwill policy (Kulanz): ordered rules. The first rule whose conditions all hold decides
// what an agent may grant directly; anything beyond it goes to a lead for approval.
import { get } from "../messenger/api.js";
import { announce, h } from "../messenger/dom.js";
import { t } from "../messenger/i18n.js";
import { put } from "../api.js";
import { messageFor } from "../errors.js";
import { errorLine, field, okLine, run, uid } from "../views/form.js";
import { fill } from "../fill.js";
import { remedyName } from "../views/complaint.js";

const REMEDIES = ["replacement", "repair", "refund", "voucher"];

// euros as typed ("12,50") → cents; "" → null; NaN for nonsense
function cents(text) {
  const clean = text.trim().replace(/\s|€/g, "").replace(",", ".");
  if (!clean) return null;
  return /^\d+(\.\d{1,2})?$/.test(clean) ? Math.round(Number(clean) * 100) : Number.NaN;
}

function whole(text) {
  const clean = text.trim();
  if (!clean) return null;
  return /^\d+$/.test(clean) ? Number(clean) : Number.NaN;
}

const euroText = (value) => (value === null || value === undefined ? "" : (value / 100).toFixed(2));

export function goodwillPage(root, { store }) {
  const error = errorLine();
  const saved = okLine();
  const list = h("ol", { class: "stack rules" });
  let editors = [];

  function editor(rule) {
    const headingId = uid("rule");
    const name = field({ label: t("Name of the rule"), maxlength: 80, value: rule.name });
    const days = field({
      label: t("Bought at most … days ago"),
      inputmode: "numeric",
      value: rule.max_days_since_purchase ?? "",
      hint: t("Empty: any time"),
    });
    const amount = field({
      label: t("Amount at most (€)"),
      inputmode: "decimal",
      value: euroText(rule.max_amount_cents),
      hint: t("Empty: any amount"),
    });
    const categories = field({
      label: t("Product categories"),
      value: (rule.categories || []).join(", "),
      hint: t("Separated by commas. Empty: any category"),
    });
    const prior = field({
      label: t("Earlier goodwill at most … times"),
      inputmode: "numeric",
      value: rule.max_prior_goodwill ?? "",
      hint: t("Empty: no matter how often"),
    });
    const months = field({
      label: t("… within the last months"),
      inputmode: "numeric",
      value: rule.prior_months ?? 12,
    });
    const boxes = REMEDIES.map((remedy) => {
      const id = uid("r");
      const box = h("input", { type: "checkbox", id, value: remedy });
      box.checked = (rule.agent_remedies || []).includes(remedy);
      return { box, node: h("div", { class: "check" }, box, h("label", { for: id, text: remedyName(remedy) })) };
    });
    const limit = field({
      label: t("Agents grant up to (€)"),
      inputmode: "decimal",
      value: euroText(rule.agent_max_amount_cents),
      hint: t("Empty: any amount"),
    });
    const up = h("button", { type: "button", class: "secondary small", text: t("Move up") });
    const down = h("button", { type: "button", class: "secondary small", text: t("Move down") });
    const remove = h("button", { type: "button", class: "danger-link", text: t("Remove rule") });
    const self = {
      read() {
        return {
          name: name.control.value.trim(),
          max_days_since_purchase: whole(days.control.value),
          max_amount_cents: cents(amount.control.value),
          categories: categories.control.value
            .split(",")
            .map((c) => c.trim())
            .filter(Boolean),
          max_prior_goodwill: whole(prior.control.value),
          prior_months: whole(months.control.value) ?? 12,
          agent_remedies: boxes.filter((b) => b.box.checked).map((b) => b.box.value),
          agent_max_amount_cents: cents(limit.control.value),
        };
      },
      node: h(
        "li",
        { class: "panel rule", "aria-labelledby": headingId },
        h("h2", { id: headingId, text: rule.name || t("New rule") }),
        h("h3", { class: "panel-heading", text: t("When") }),
        h("div", { class: "rule-grid" }, days.node, amount.node, categories.node, prior.node, months.node),
        h("h3", { class: "panel-heading", text: t("then agents may grant directly") }),
        h("div", { class: "check-grid" }, boxes.map((b) => b.node)),
        h("div", { class: "rule-grid" }, name.node, limit.node),
        h("div", { class: "row-actions" }, up, down, remove),
      ),
    };
    up.addEventListener("click", () => move(self, -1));
    down.addEventListener("click", () => move(self, 1));
    remove.addEventListener("click", () => {
      editors = editors.filter((e) => e !== self);
      draw();
    });
    return self;
  }

  function move(which, by) {
    const at = editors.indexOf(which);
    const to = at + by;
    if (to < 0 || to >= editors.length) return;
    [editors[at], editors[to]] = [editors[to], editors[at]];
    draw();
    which.node.querySelector("h2").focus?.();
  }

  function draw() {
    fill(
      list,
      ...(editors.length
        ? editors.map((e) => e.node)
        : [h("li", { class: "muted", text: t("No rules yet: every goodwill decision needs a lead.") })]),
    );
  }

  const add = h("button", { type: "button", class: "secondary", text: t("Add rule") });
  add.addEventListener("click", () => {
    editors.push(editor({ name: "", agent_remedies: [], prior_months: 12 }));
    draw();
    editors.at(-1).node.querySelector("input")?.focus();
  });
  const save = h("button", { type: "button", class: "primary", text: t("Save policy") });
  save.addEventListener("click", () => {
    const rules = editors.map((e) => e.read());
    const broken = rules.findIndex(
      (r) =>
        !r.name ||
        [r.max_days_since_purchase, r.max_amount_cents, r.max_prior_goodwill, r.prior_months, r.agent_max_amount_cents].some(
          (v) => Number.isNaN(v),
        ),
    );
    if (broken >= 0) {
      error.show(t("Rule {n}: give it a name and enter numbers only.", { n: broken + 1 }));
      return;
    }
    saved.show("");
    run(
      save,
      error,
      async () => {
        const policy = await put(`/companies/${store.slug}/goodwill-policy`, { rules });
        editors = policy.rules.map(editor);
        draw();
        saved.show(t("The policy was saved."));
        announce(t("The policy was saved."));
      },
      messageFor,
    );
  });

  root.append(
    h("h1", { tabindex: "-1", text: t("Goodwill policy") }),
    h("p", {
      class: "muted",
      text: t(
        "The rules are tried from the top. The first rule whose conditions all hold says what an agent may grant directly; anything beyond it needs a lead's approval.",
      ),
    }),
    list,
    h("div", { class: "row-actions" }, add, save),
    error.node,
    saved.node,
  );
  get(`/companies/${store.slug}/goodwill-policy`)
    .then((policy) => {
      editors = policy.rules.map(editor);
      draw();
    })
    .catch((failure) => error.show(messageFor(failure)));
  return null;
}
