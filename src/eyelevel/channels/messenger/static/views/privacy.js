// The privacy card: what one company can see of me right now, since when, and a switch per
// field. Each switch takes effect at once (the company's open views update live) and is
// written to my consent ledger with the version of this wording (PRIVACY_TEXT).
import { get, put } from "../api.js";
import { h } from "../dom.js";
import { messageFor } from "../errors.js";
import { t } from "../i18n.js";
import { fullDate } from "../time.js";
import { errorLine, field } from "./form.js";

// the version of the card's wording; a change of the texts below gets a new one
export const PRIVACY_TEXT = "privacy-card-1";

export const FIELD_NAMES = {
  first_name: () => t("First name"),
  last_name: () => t("Last name"),
  email: () => t("Email address"),
  phone: () => t("Phone number"),
  address: () => t("Postal address"),
  customer_number: () => t("Customer number"),
};

export function privacyCard(store, slug) {
  const node = h("section", { class: "card privacy", "aria-live": "polite" });
  const error = errorLine();
  let card = null;
  let profile = null;
  let counter = 0;

  async function load() {
    try {
      [card, profile] = await Promise.all([get(`/me/privacy/${slug}`), get("/me/profile")]);
      draw();
    } catch (e) {
      node.replaceChildren(h("p", { class: "empty", role: "alert", text: messageFor(e) }));
    }
  }

  async function change(fields, screen = "privacy_card", extra = {}) {
    error.show("");
    try {
      card = await put(`/me/privacy/${slug}`, {
        fields,
        screen,
        text_version: PRIVACY_TEXT,
        ...extra,
      });
      draw();
    } catch (e) {
      error.show(messageFor(e));
      draw();
    }
  }

  function value(name) {
    if (name === "email") return profile.email;
    if (name === "customer_number") return card.customer_number;
    return profile[name];
  }

  function row(f) {
    counter += 1;
    const id = `share-${f.field}-${counter}`;
    const given = value(f.field);
    const toggle = h("input", {
      type: "checkbox",
      role: "switch",
      id,
      class: "switch",
      checked: f.shared,
      on: { change: () => change({ [f.field]: toggle.checked }) },
    });
    return h(
      "li",
      { class: f.shared ? "privacy-row shared" : "privacy-row" },
      h(
        "label",
        { for: id },
        h("span", { class: "privacy-field", text: FIELD_NAMES[f.field]() }),
        h("span", {
          class: given ? "privacy-value" : "privacy-value muted",
          text: given || t("not filled in"),
        }),
        h("span", {
          class: "privacy-since muted",
          text: f.shared
            ? t("Visible since {date}", { date: fullDate(f.since) })
            : t("Not visible"),
        }),
      ),
      toggle,
    );
  }

  // one tap: "share my phone so you can call me back" (asks for the number when missing)
  function callback() {
    const phone = card.fields.find((f) => f.field === "phone");
    if (phone.shared) return null;
    if (profile.phone) {
      return h("button", {
        type: "button",
        class: "button secondary wide",
        text: t("Share my phone number so they can call me back"),
        on: { click: () => change({ phone: true }, "callback") },
      });
    }
    const number = field({ label: t("Phone number"), type: "tel", autocomplete: "tel" });
    return h(
      "form",
      {
        class: "callback",
        on: {
          submit: async (event) => {
            event.preventDefault();
            error.show("");
            try {
              profile = await put("/me/profile", { ...profileBody(), phone: number.control.value });
              await change({ phone: true }, "callback");
            } catch (e) {
              error.show(messageFor(e));
            }
          },
        },
      },
      number.node,
      h("button", {
        type: "submit",
        class: "button secondary wide",
        text: t("Share my phone number so they can call me back"),
      }),
    );
  }

  function profileBody() {
    const { first_name, last_name, phone, address } = profile;
    return { first_name, last_name, phone, address };
  }

  function customerNumber() {
    const input = field({
      label: t("My customer number at {company}", { company: card.company.name }),
      value: card.customer_number || "",
      autocomplete: "off",
    });
    return h(
      "form",
      {
        class: "inline-form",
        on: {
          submit: (event) => {
            event.preventDefault();
            change({}, "privacy_card", {
              customer_number: input.control.value,
              set_customer_number: true,
            });
          },
        },
      },
      input.node,
      h("button", { type: "submit", class: "button secondary", text: t("Save") }),
    );
  }

  function draw() {
    const parts = [
      h("h3", {
        class: "privacy-heading",
        text: t("What {company} can see", { company: card.company.name }),
      }),
      h("p", {
        class: "muted",
        text: t("Always: your display name “{name}”. Everything else only if you switch it on.", {
          name: card.visible.name,
        }),
      }),
      h("ul", { class: "privacy-fields" }, card.fields.map(row)),
      callback(),
      customerNumber(),
      error.node,
      h("p", { class: "muted" }, h("a", { href: "#/settings", text: t("Edit my details") })),
    ];
    node.replaceChildren(...parts.filter(Boolean)); // no card for a shared phone's button
  }

  load();
  return {
    node,
    off: store.on("privacy", (data) => {
      if (card && data.company_id === card.company.id) load();
    }),
  };
}
