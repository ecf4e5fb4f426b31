// A company's card: who they are, how to call them, when they are there, and a way to write.
import { avatar, h } from "../dom.js";
import { messageFor } from "../errors.js";
import { t } from "../i18n.js";
import { bar } from "./bar.js";
import { hoursTable, openBadge, phoneLink, promiseLine } from "./hours.js";
import { contactCard } from "./contact.js";
import { privacyCard } from "./privacy.js";

export function companyView(root, { store, route }) {
  const slug = route.arg;
  const { header, heading } = bar({ title: t("Company"), back: "#/find" });
  const main = h("main", { class: "page" }, h("p", { class: "empty", text: t("Loading…") }));
  root.append(header, main);
  const privacy = store.me?.anonymous ? null : privacyCard(store, slug);
  const contact = store.me?.anonymous ? null : contactCard(store, slug);

  async function draw() {
    let company;
    try {
      company = await store.company(slug);
    } catch (error) {
      main.replaceChildren(h("p", { class: "empty", role: "alert", text: messageFor(error) }));
      return;
    }
    heading.textContent = company.name;
    if (!store.listLoaded) await store.loadConversations().catch(() => {});
    const latest = store.latestWith(slug);
    const actions = h(
      "div",
      { class: "actions" },
      latest
        ? h("a", {
            class: "button primary",
            href: `#/chat/${latest.id}`,
            text: t("Continue the conversation"),
          })
        : null,
      h("a", {
        class: latest ? "button secondary" : "button primary",
        href: `#/new/${encodeURIComponent(slug)}`,
        text: t("Start a new conversation"),
      }),
    );
    const parts = [
      h(
        "article",
        { class: "card company" },
        h(
          "div",
          { class: "company-head" },
          avatar(company.name, "avatar-lg"),
          h("div", {}, h("h2", { class: "company-name", text: company.name }), openBadge(company)),
        ),
        company.description ? h("p", { class: "company-desc", text: company.description }) : null,
        phoneLink(company),
        promiseLine(company),
        hoursTable(company),
      ),
      actions,
      privacy?.node,
      contact?.node,
    ];
    main.replaceChildren(...parts.filter(Boolean));
  }
  draw();
  return () => {
    privacy?.off();
    contact?.off();
  };
}
