// The inbox screen: the list of the chosen view (or search results) and the open
// conversation with its customer panel. Changing only the conversation keeps the list.
import { h } from "../messenger/dom.js";
import { listPane } from "./list.js";
import { conversationPane } from "./conversation.js";

export function inboxScreen(store) {
  let route = null;

  function linkFor(id) {
    if (!route) return `#/inbox/mine/${id}`;
    const query = new URLSearchParams(route.params);
    query.delete("at");
    const q = query.toString();
    const tail = q ? "?" + q : "";
    if (route.section === "search") return `#/search/${id}${tail}`;
    return `#/inbox/${route.view}/${id}${tail}`;
  }

  function listHref() {
    if (!route) return "#/inbox/mine";
    const q = route.params.toString();
    const base = route.section === "search" ? "#/search" : `#/inbox/${route.view}`;
    return base + (q ? "?" + q : "");
  }

  const list = listPane(store, { linkFor });
  const conversation = conversationPane(store, { linkFor });
  const node = h(
    "main",
    { id: "main", class: "inbox", tabindex: "-1" },
    list.node,
    conversation.node,
  );

  return {
    node,
    update(next) {
      route = next;
      list.show(next);
      node.classList.toggle("has-conversation", Boolean(next.conversation));
      conversation.open(next.conversation, { at: next.params.get("at"), back: listHref() });
    },
    destroy() {
      list.destroy();
      conversation.destroy();
    },
    // keyboard shortcuts
    move: (step) => list.move(step),
    reply: () => conversation.focusReply("reply"),
    note: () => conversation.focusReply("note"),
    assignToMe: () => conversation.assignToMe(),
    resolve: () => conversation.resolve(),
  };
}
