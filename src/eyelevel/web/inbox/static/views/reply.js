// The reply box: Enter sends, Shift+Enter starts a new line. Two modes: a reply the customer
// receives, and a private note (amber, labelled) in which "@" offers colleagues to mention.
// "/" at the very start offers the canned responses, placeholders filled in on insertion.
// A photo or PDF can be attached. Drafts are kept per conversation while the page is open.
import { ApiError, OfflineError, upload } from "../messenger/api.js";
import { config } from "../messenger/config.js";
import { announce, h } from "../messenger/dom.js";
import { refusal, sizeText } from "../messenger/files.js";
import { t } from "../messenger/i18n.js";
import { messageFor } from "../errors.js";
import { customerName, fillPlaceholders, firstName, presenceName } from "../format.js";
import { icon } from "../icons.js";
import { newClientId } from "../store.js";
import { fill } from "../fill.js";

const MAX_SUGGESTIONS = 8;

export function replyBox(store) {
  let conversation = null;
  let mode = "reply";
  let file = null;
  let uploading = null;
  const drafts = new Map();
  let mentioned = new Map(); // "@Full Name" -> agent id
  let suggestions = []; // [{id, label, detail, apply}]
  let active = -1;
  let trigger = null; // "canned" | "mention"

  const replyMode = h(
    "button",
    { type: "button", class: "mode", "aria-pressed": "true" },
    icon("send"),
    t("Reply"),
  );
  const noteMode = h(
    "button",
    { type: "button", class: "mode mode-note", "aria-pressed": "false" },
    icon("note"),
    t("Private note"),
  );
  const banner = h(
    "p",
    { class: "note-banner", id: "reply-note-banner" },
    icon("note"),
    t("Private note — the customer does not see this"),
  );
  banner.hidden = true;
  const label = h("label", { for: "reply-text", class: "sr-only" });
  const text = h("textarea", {
    id: "reply-text",
    rows: 3,
    autocomplete: "off",
    "aria-controls": "reply-suggestions",
    "aria-describedby": "reply-help",
  });
  const help = h("p", { id: "reply-help", class: "reply-help" });
  const list = h("ul", {
    id: "reply-suggestions",
    class: "suggestions",
    role: "listbox",
    "aria-label": t("Suggestions"),
  });
  list.hidden = true;
  const pick = h("input", {
    type: "file",
    accept: "image/*,application/pdf",
    class: "file-input",
    tabindex: "-1",
    "aria-hidden": "true",
  });
  const attach = h(
    "button",
    {
      type: "button",
      class: "icon-btn",
      "aria-label": t("Attach a photo or PDF"),
      title: t("Attach a photo or PDF"),
    },
    icon("clip"),
  );
  const send = h("button", { type: "submit", class: "primary send-btn" }, icon("send"));
  const sendLabel = h("span");
  send.append(sendLabel);
  const error = h("p", { class: "form-error", role: "alert" });
  error.hidden = true;
  const preview = h("div", { class: "attachment-preview" });
  preview.hidden = true;
  const progress = h("progress", { max: 1, value: 0, "aria-label": t("Upload progress") });

  const form = h(
    "form",
    { class: "reply", novalidate: true, "aria-label": t("Reply box") },
    h(
      "div",
      { class: "reply-modes", role: "group", "aria-label": t("Write as") },
      replyMode,
      noteMode,
    ),
    banner,
    h("div", { class: "reply-field" }, label, text, list),
    preview,
    error,
    h("div", { class: "reply-actions" }, attach, pick, help, send),
  );

  // -- mode and labels -------------------------------------------------------------------

  function setMode(next) {
    mode = next;
    const note = mode === "note";
    form.classList.toggle("note-mode", note);
    replyMode.setAttribute("aria-pressed", String(!note));
    noteMode.setAttribute("aria-pressed", String(note));
    banner.hidden = !note;
    label.textContent = note
      ? t("Private note — the customer does not see this")
      : t("Reply to the customer");
    text.placeholder = note
      ? t("Write a note for your colleagues. @ mentions someone.")
      : t("Write a reply. / inserts a canned response.");
    sendLabel.textContent = note ? t("Add note") : t("Send");
    help.textContent = note
      ? t("Enter adds the note, Shift+Enter starts a new line.")
      : t("Enter sends, Shift+Enter starts a new line.");
    closeSuggestions();
  }
  replyMode.addEventListener("click", () => {
    setMode("reply");
    text.focus();
  });
  noteMode.addEventListener("click", () => {
    setMode("note");
    text.focus();
  });

  function showError(message) {
    error.textContent = message || "";
    error.hidden = !message;
  }

  function resize() {
    text.style.height = "auto";
    text.style.height = `${Math.min(Math.max(text.scrollHeight, 64), 240)}px`;
  }

  // -- suggestions: canned responses and mentions ----------------------------------------

  function closeSuggestions() {
    suggestions = [];
    active = -1;
    trigger = null;
    list.hidden = true;
    fill(list);
    text.removeAttribute("aria-activedescendant");
  }

  function drawSuggestions() {
    if (!suggestions.length) {
      fill(
        list,
        h("li", {
          class: "suggestion-empty",
          role: "option",
          "aria-disabled": "true",
          id: "reply-suggestion-none",
          text:
            trigger === "canned" ? t("No canned response matches.") : t("No colleague matches."),
        }),
      );
      list.hidden = false;
      text.removeAttribute("aria-activedescendant");
      return;
    }
    fill(
      list,
      ...suggestions.map((s, i) => {
        const option = h(
          "li",
          {
            id: `reply-suggestion-${i}`,
            role: "option",
            class: `suggestion${i === active ? " active" : ""}`,
            "aria-selected": String(i === active),
          },
          h("span", { class: "suggestion-label", text: s.label }),
          s.detail ? h("span", { class: "suggestion-detail", text: s.detail }) : null,
        );
        option.addEventListener("pointerdown", (event) => {
          event.preventDefault();
          choose(i);
        });
        return option;
      }),
    );
    list.hidden = false;
    if (active >= 0) {
      text.setAttribute("aria-activedescendant", `reply-suggestion-${active}`);
      list.children[active]?.scrollIntoView({ block: "nearest" });
    }
  }

  function placeholders() {
    const customer = conversation?.customer?.name || customerName(conversation);
    return {
      // only what the customer shares with us: an ungranted first name stays empty
      customer: { first_name: conversation?.customer?.first_name || "", name: customer },
      agent: { first_name: firstName(store.me?.name), name: store.me?.name || "" },
      company: { name: store.company?.name || "" },
    };
  }

  function cannedFor(query) {
    const q = query.trim().toLowerCase();
    return store.canned
      .filter((c) => !q || c.shortcut.toLowerCase().includes(q) || c.body.toLowerCase().includes(q))
      .sort((a, b) => {
        const ap = a.shortcut.toLowerCase().startsWith(q) ? 0 : 1;
        const bp = b.shortcut.toLowerCase().startsWith(q) ? 0 : 1;
        return ap - bp || a.shortcut.localeCompare(b.shortcut);
      })
      .slice(0, MAX_SUGGESTIONS)
      .map((c) => ({
        label: `/${c.shortcut}`,
        detail:
          (c.personal ? t("Personal") + " · " : "") + c.body.replace(/\s+/g, " ").slice(0, 90),
        apply: () => {
          const end = text.selectionStart;
          const body = fillPlaceholders(c.body, placeholders());
          text.value = body + text.value.slice(end);
          const caret = body.length;
          text.setSelectionRange(caret, caret);
          announce(t("Inserted the canned response {name}.", { name: `/${c.shortcut}` }));
        },
      }));
  }

  function mentionsFor(query, start) {
    const q = query.toLowerCase();
    return store.agents
      .filter((a) => a.active !== false && a.id !== store.me?.id)
      .filter(
        (a) =>
          !q ||
          a.name
            .toLowerCase()
            .split(/\s+/)
            .some((w) => w.startsWith(q)),
      )
      .slice(0, MAX_SUGGESTIONS)
      .map((a) => ({
        label: a.name,
        detail: presenceName(a.presence),
        apply: () => {
          const end = text.selectionStart;
          const insert = `@${a.name} `;
          text.value = text.value.slice(0, start) + insert + text.value.slice(end);
          const caret = start + insert.length;
          text.setSelectionRange(caret, caret);
          mentioned.set(`@${a.name}`, a.id);
        },
      }));
  }

  function detect() {
    const caret = text.selectionStart;
    const before = text.value.slice(0, caret);
    if (text.value.startsWith("/") && !before.includes("\n") && store.canned) {
      trigger = "canned";
      suggestions = cannedFor(before.slice(1));
    } else if (mode === "note") {
      const match = before.match(/(^|\s)@([^\s@]{0,30})$/);
      if (!match) {
        closeSuggestions();
        return;
      }
      trigger = "mention";
      suggestions = mentionsFor(match[2], caret - match[2].length - 1);
    } else {
      closeSuggestions();
      return;
    }
    active = suggestions.length ? 0 : -1;
    drawSuggestions();
  }

  function choose(index) {
    const chosen = suggestions[index];
    if (!chosen) return;
    chosen.apply();
    closeSuggestions();
    resize();
    text.focus();
  }

  // -- attachments -----------------------------------------------------------------------

  function clearFile() {
    file = null;
    pick.value = "";
    fill(preview);
    preview.hidden = true;
  }

  function chooseFile(chosen) {
    if (!chosen) return;
    const why = refusal(chosen);
    if (why) {
      clearFile();
      showError(why);
      return;
    }
    showError("");
    file = chosen;
    progress.value = 0;
    progress.hidden = true;
    const remove = h(
      "button",
      {
        type: "button",
        class: "icon-btn",
        "aria-label": t("Remove the file"),
        title: t("Remove the file"),
      },
      icon("close"),
    );
    remove.addEventListener("click", () => {
      if (uploading) uploading.abort();
      clearFile();
      text.focus();
    });
    fill(
      preview,
      icon("file"),
      h("span", { class: "file-name", text: chosen.name }),
      h("span", { class: "file-size", text: sizeText(chosen.size) }),
      progress,
      remove,
    );
    preview.hidden = false;
    text.focus();
  }

  attach.addEventListener("click", () => pick.click());
  pick.addEventListener("change", () => chooseFile(pick.files[0]));

  // -- sending ---------------------------------------------------------------------------

  function mentionIds(body) {
    const ids = new Set();
    for (const [name, id] of mentioned) if (body.includes(name)) ids.add(id);
    return [...ids];
  }

  async function sendFile(id, caption) {
    const form = new FormData();
    form.append("file", file, file.name);
    form.append("body", caption);
    form.append("client_id", newClientId());
    if (mode === "note") form.append("note", "true");
    progress.hidden = false;
    uploading = upload(`/conversations/${id}/attachments`, form, (share) => {
      progress.value = share;
    });
    try {
      const message = await uploading.done;
      store.addMessage(message);
      clearFile();
      text.value = "";
      showError("");
    } catch (failure) {
      progress.hidden = true;
      if (failure && failure.name === "AbortError") return;
      if (
        !(failure instanceof ApiError && failure.transient) &&
        !(failure instanceof OfflineError)
      ) {
        clearFile();
      }
      showError(messageFor(failure));
    } finally {
      uploading = null;
      resize();
    }
  }

  async function submit() {
    if (!conversation || uploading) return;
    const id = conversation.id;
    const body = text.value;
    if ([...body].length > config.maxBodyChars) {
      showError(t("A message can have at most 10,000 characters."));
      return;
    }
    if (file) {
      await sendFile(id, body.trim());
      return;
    }
    if (!body.trim()) {
      showError(mode === "note" ? t("Write the note first.") : t("Write a reply first."));
      return;
    }
    showError("");
    const note = mode === "note";
    const mentions = note ? mentionIds(body) : [];
    text.value = "";
    drafts.delete(id);
    resize();
    mentioned = new Map();
    try {
      await store.send(id, body, { note, mentions });
      announce(note ? t("Note added.") : t("Reply sent."));
    } catch (failure) {
      if (!text.value) text.value = body;
      resize();
      showError(t("Not sent: {reason}", { reason: messageFor(failure) }));
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submit();
  });

  text.addEventListener("keydown", (event) => {
    const open = !list.hidden && suggestions.length > 0;
    if (open && (event.key === "ArrowDown" || event.key === "ArrowUp")) {
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      active = (active + step + suggestions.length) % suggestions.length;
      drawSuggestions();
      return;
    }
    if (open && (event.key === "Enter" || event.key === "Tab") && !event.shiftKey) {
      event.preventDefault();
      choose(active < 0 ? 0 : active);
      return;
    }
    if (event.key === "Escape") {
      event.preventDefault();
      if (!list.hidden) closeSuggestions();
      else text.blur();
      return;
    }
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submit();
    }
  });
  text.addEventListener("input", () => {
    resize();
    detect();
    if (!error.hidden && text.value.trim()) showError("");
    if (conversation) {
      drafts.set(conversation.id, { text: text.value, mode, mentioned });
      if (text.value.trim()) store.typingIn(conversation.id, mode === "note");
    }
  });
  text.addEventListener("click", detect);
  text.addEventListener("blur", () =>
    setTimeout(() => {
      if (document.activeElement !== text) closeSuggestions();
    }, 150),
  );

  setMode("reply");

  return {
    node: form,
    text,
    setConversation(next) {
      if (conversation && conversation.id !== next?.id) {
        if (text.value) drafts.set(conversation.id, { text: text.value, mode, mentioned });
        else drafts.delete(conversation.id);
      }
      const changed = conversation?.id !== next?.id;
      conversation = next;
      const disabled = !next;
      for (const control of [text, attach, send, replyMode, noteMode]) control.disabled = disabled;
      if (!changed) return;
      const draft = next ? drafts.get(next.id) : null;
      text.value = draft?.text || "";
      mentioned = draft?.mentioned || new Map();
      setMode(draft?.mode || "reply");
      clearFile();
      showError("");
      resize();
    },
    focus(wanted) {
      if (!conversation) return;
      if (wanted && wanted !== mode) setMode(wanted);
      text.focus();
    },
  };
}
