// Writing: Enter sends, Shift+Enter starts a new line; a photo or PDF can be added, previewed,
// and is uploaded with a progress bar. Refusals are explained and nothing is sent.
import { ApiError, OfflineError } from "../api.js";
import { config } from "../config.js";
import { h, icon } from "../dom.js";
import { messageFor } from "../errors.js";
import { canPreview, refusal, sizeText } from "../files.js";
import { t } from "../i18n.js";

const COUNTER_FROM = 9000;
const coarse = window.matchMedia("(pointer: coarse)").matches;

function chars(text) {
  return [...text].length;
}

export function composer({ onSend, onUpload, onTyping }) {
  const text = h("textarea", {
    id: "composer-text",
    rows: 1,
    placeholder: t("Write a message"),
    enterkeyhint: "send",
    autocomplete: "off",
  });
  const pick = h("input", {
    type: "file",
    accept: "image/*,application/pdf",
    class: "file-input",
    tabindex: "-1",
    "aria-hidden": "true",
  });
  const shoot = h("input", {
    type: "file",
    accept: "image/*",
    capture: "environment",
    class: "file-input",
    tabindex: "-1",
    "aria-hidden": "true",
  });
  const attach = h(
    "button",
    {
        type: "button",
        class: "icon-btn",
        "aria-label": t("Add a photo or PDF"),
        title: t("Add a photo or PDF"),
      },
    icon("clip"),
  );
  const camera = coarse
    ? h(
        "button",
        { type: "button", class: "icon-btn", "aria-label": t("Take a photo"), title: t("Take a photo") },
        icon("camera"),
      )
    : null;
  const send = h(
    "button",
    { type: "submit", class: "send", "aria-label": t("Send"), title: t("Send") },
    icon("send"),
  );
  const error = h("p", { class: "composer-error", role: "alert" });
  error.hidden = true;
  const counter = h("p", { class: "counter", "aria-live": "polite" });
  counter.hidden = true;
  const preview = h("div", { class: "preview" });
  preview.hidden = true;
  const progress = h("progress", { max: 1, value: 0, "aria-label": t("Upload progress") });
  const disabledNote = h("p", { class: "composer-note" });
  disabledNote.hidden = true;

  const form = h(
    "form",
    { class: "composer", novalidate: true, "aria-label": t("Write a message") },
    preview,
    error,
    disabledNote,
    h(
      "div",
      { class: "composer-row" },
      attach,
      camera,
      pick,
      shoot,
      h("label", { for: "composer-text", class: "sr-only", text: t("Message") }),
      text,
      send,
    ),
    counter,
  );

  let file = null;
  let previewUrl = null;
  let uploading = null;

  function showError(message) {
    error.textContent = message || "";
    error.hidden = !message;
  }

  function resize() {
    text.style.height = "auto";
    text.style.height = `${Math.min(text.scrollHeight, 160)}px`;
  }

  function count() {
    const n = chars(text.value);
    counter.hidden = n < COUNTER_FROM;
    counter.textContent = t("{n} of {max} characters", {
      n: n.toLocaleString(),
      max: config.maxBodyChars.toLocaleString(),
    });
    counter.classList.toggle("over", n > config.maxBodyChars);
  }

  function clearFile() {
    file = null;
    if (previewUrl) URL.revokeObjectURL(previewUrl);
    previewUrl = null;
    preview.replaceChildren();
    preview.hidden = true;
    pick.value = "";
    shoot.value = "";
    text.placeholder = t("Write a message");
  }

  function choose(chosen) {
    if (!chosen) return;
    const why = refusal(chosen);
    if (why) {
      clearFile();
      showError(why);
      return;
    }
    showError("");
    clearFile();
    file = chosen;
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
    let thumb;
    if (canPreview(chosen)) {
      previewUrl = URL.createObjectURL(chosen);
      thumb = h("img", { src: previewUrl, alt: t("Preview of {name}", { name: chosen.name }) });
    } else {
      thumb = h("span", { class: "preview-icon" }, icon("file"));
    }
    progress.value = 0;
    progress.hidden = true;
    preview.replaceChildren(
      thumb,
      h(
        "div",
        { class: "preview-text" },
        h("span", { class: "file-name", text: chosen.name }),
        h("span", { class: "file-size", text: sizeText(chosen.size) }),
        progress,
      ),
      remove,
    );
    preview.hidden = false;
    text.placeholder = t("Add a caption (optional)");
    text.focus();
  }

  async function submit() {
    if (uploading) return;
    const value = text.value;
    if (chars(value) > config.maxBodyChars) {
      showError(t("A message can have at most 10,000 characters."));
      return;
    }
    if (file) {
      progress.hidden = false;
      const sending = file;
      try {
        uploading = onUpload(sending, value.trim(), (share) => {
          progress.value = share;
        });
        await uploading.done;
        clearFile();
        text.value = "";
        showError("");
      } catch (failure) {
        progress.hidden = true;
        if (failure && failure.name === "AbortError") return;
        if (failure instanceof OfflineError) {
          showError(t("You are offline. Files can be sent when you are back online."));
        } else {
          // refused: nothing was stored, and this file will not do
          if (!(failure instanceof ApiError && failure.transient)) clearFile();
          showError(messageFor(failure));
        }
      } finally {
        uploading = null;
        resize();
        count();
      }
      return;
    }
    if (!value.trim()) {
      showError(t("Write a message first."));
      return;
    }
    showError("");
    onSend(value);
    text.value = "";
    resize();
    count();
    text.focus();
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submit();
  });
  text.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submit();
    }
  });
  text.addEventListener("input", () => {
    resize();
    count();
    if (!error.hidden && text.value.trim()) showError("");
    if (text.value.trim()) onTyping();
  });
  attach.addEventListener("click", () => pick.click());
  if (camera) camera.addEventListener("click", () => shoot.click());
  pick.addEventListener("change", () => choose(pick.files[0]));
  shoot.addEventListener("change", () => choose(shoot.files[0]));

  return {
    node: form,
    text,
    showError,
    // put a refused message back so nothing written is lost
    restore(value) {
      if (!text.value) {
        text.value = value;
        resize();
        count();
      }
    },
    disable(reason) {
      for (const control of [text, attach, camera, send]) {
        if (control) control.disabled = Boolean(reason);
      }
      disabledNote.textContent = reason || "";
      disabledNote.hidden = !reason;
    },
  };
}
