// Find a company by name.
import { get } from "../api.js";
import { avatar, h } from "../dom.js";
import { messageFor } from "../errors.js";
import { t, tn } from "../i18n.js";
import { bar } from "./bar.js";

export function findView(root, { route }) {
  const { header } = bar({ title: t("Find a company"), back: "#/" });
  const input = h("input", {
    type: "search",
    id: "company-search",
    autocomplete: "off",
    placeholder: t("Search by name"),
    value: route.query.get("q") || "",
  });
  const form = h(
    "form",
    { role: "search", class: "search" },
    h("label", { for: "company-search", class: "sr-only", text: t("Company name") }),
    input,
  );
  const list = h("ul", { class: "companies" });
  const status = h("p", { class: "count", role: "status" });
  root.append(header, h("main", { class: "page" }, form, status, list));

  let timer = null;
  let asked = 0;
  async function search() {
    const q = input.value.trim();
    const mine = ++asked;
    try {
      const found = await get(`/companies?limit=20&q=${encodeURIComponent(q)}`);
      if (mine !== asked) return;
      list.replaceChildren(
        ...found.map((company) =>
          h(
            "li",
            {},
            h(
              "a",
              { class: "company-row", href: `#/company/${encodeURIComponent(company.slug)}` },
              avatar(company.name),
              h(
                "span",
                { class: "company-row-text" },
                h("span", { class: "company-row-name", text: company.name }),
                h("span", { class: "company-row-desc", text: company.description }),
              ),
            ),
          ),
        ),
      );
      status.textContent = found.length
        ? tn("{n} company", "{n} companies", found.length)
        : t("No company found.");
    } catch (error) {
      if (mine === asked) status.textContent = messageFor(error);
    }
  }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    clearTimeout(timer);
    search();
  });
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(search, 250);
  });
  search();
  return () => clearTimeout(timer);
}
