// Company administration (admins only; the sidebar shows it to them alone, and the API
// refuses everyone else): one module per page under ../admin/.
import { h } from "../messenger/dom.js";
import { t } from "../messenger/i18n.js";
import { agentsPage } from "../admin/agents.js";
import { auditPage } from "../admin/audit.js";
import { goodwillPage } from "../admin/goodwill.js";
import { labelsPage } from "../admin/labels.js";
import { profilePage } from "../admin/profile.js";
import { routingPage } from "../admin/routing.js";
import { teamsPage } from "../admin/teams.js";
import { tokensPage } from "../admin/tokens.js";
import { topicsPage } from "../admin/topics.js";
import { webhooksPage } from "../admin/webhooks.js";

const PAGES = {
  profile: profilePage,
  teams: teamsPage,
  agents: agentsPage,
  topics: topicsPage,
  routing: routingPage,
  labels: labelsPage,
  tokens: tokensPage,
  webhooks: webhooksPage,
  goodwill: goodwillPage,
  audit: auditPage,
};

export function adminPage(root, { store, route }) {
  const render = PAGES[route.page] || profilePage;
  const inner = h("div", { class: "page-inner" });
  root.append(inner);
  if (!store.isAdmin()) {
    inner.append(
      h("h1", { tabindex: "-1", text: t("Administration") }),
      h("p", { text: t("Your role does not allow this.") }),
    );
    return null;
  }
  return render(inner, { store, route });
}
