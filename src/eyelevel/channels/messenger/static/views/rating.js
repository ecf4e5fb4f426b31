// "How did we do?": once a conversation is resolved, and only when I allow this company to ask
// for feedback (the contact card), I can rate it 1–5 with a comment, and change it later.
// Live: a status change or a rating from another device reads it again.
import { get, put } from "../api.js";
import { h } from "../dom.js";
import { messageFor } from "../errors.js";
import { t } from "../i18n.js";
import { errorLine } from "./form.js";

function starLabel(n) {
  return t("{n} of 5 stars", { n });
}

export function ratingCard(store, conversationId) {
  const node = h("section", { class: "rating-card", "aria-label": t("Your rating") });
  node.hidden = true;
  let editing = false;

  function form(current) {
    let score = current?.score || 0;
    const error = errorLine();
    const stars = [1, 2, 3, 4, 5].map((n) => {
      const star = h("button", {
        type: "button",
        class: "star",
        "aria-label": starLabel(n),
        "aria-pressed": "false",
        text: "★",
      });
      star.addEventListener("click", () => {
        score = n;
        paint();
      });
      return star;
    });
    function paint() {
      stars.forEach((star, i) => {
        star.classList.toggle("on", i < score);
        star.setAttribute("aria-pressed", String(i + 1 === score));
      });
    }
    paint();
    const comment = h("textarea", {
      rows: 2,
      maxlength: 2000,
      "aria-label": t("Comment (optional)"),
      placeholder: t("Comment (optional)"),
    });
    comment.value = current?.comment || "";
    const send = h("button", { type: "submit", class: "primary", text: t("Send rating") });
    const el = h(
      "form",
      { class: "rating-form", novalidate: true },
      h("h2", { class: "rating-title", text: t("How did we do?") }),
      h("div", { class: "stars", role: "group", "aria-label": t("Rating") }, stars),
      comment,
      error.node,
      send,
    );
    el.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!score) {
        error.show(t("Choose from 1 to 5 stars."));
        return;
      }
      send.disabled = true;
      try {
        const saved = await put(`/conversations/${conversationId}/rating`, {
          score,
          comment: comment.value,
        });
        editing = false;
        draw(saved);
      } catch (failure) {
        error.show(messageFor(failure));
      } finally {
        send.disabled = false;
      }
    });
    return el;
  }

  function thanks(rating) {
    const change = h("button", { type: "button", class: "link", text: t("Change") });
    change.addEventListener("click", () => {
      editing = true;
      draw(rating);
    });
    return [
      h("p", { class: "rating-done", text: t("Thank you for your rating.") }),
      h("p", {
        class: "stars-shown",
        "aria-label": starLabel(rating.score),
        text: "★".repeat(rating.score) + "☆".repeat(5 - rating.score),
      }),
      rating.comment ? h("p", { class: "rating-comment", text: rating.comment }) : null,
      rating.requested ? change : null,
    ].filter(Boolean);
  }

  function draw(rating) {
    const show = rating && (rating.requested || rating.score);
    node.hidden = !show;
    if (!show) {
      node.replaceChildren();
      return;
    }
    if (rating.score && !editing) node.replaceChildren(...thanks(rating));
    else node.replaceChildren(form(rating));
  }

  async function load() {
    try {
      draw(await get(`/conversations/${conversationId}/rating`));
    } catch {
      draw(null);
    }
  }

  const offs = [
    store.on("thread", (detail) => {
      if (detail.id === conversationId && detail.status) load();
    }),
    store.on("rating", (data) => {
      if (data.conversation_id === conversationId && !editing) load();
    }),
  ];
  load();
  return { node, destroy: () => offs.forEach((off) => off()) };
}
