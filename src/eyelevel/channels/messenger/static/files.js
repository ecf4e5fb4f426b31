// Attachments: what may be sent, how big, and opening what was sent.
import { attachmentUrl } from "./api.js";
import { config } from "./config.js";
import { h } from "./dom.js";
import { t } from "./i18n.js";

const TYPES = new Set([
  "image/jpeg",
  "image/png",
  "image/webp",
  "image/heic",
  "image/heif",
  "application/pdf",
]);
const EXTENSIONS = /\.(jpe?g|png|webp|heic|heif|pdf)$/i;
const PREVIEWABLE = new Set(["image/jpeg", "image/png", "image/webp"]);

// null when the file may be sent, else why not
export function refusal(file) {
  if (file.size === 0) return t("This file is empty.");
  if (file.size > config.maxUploadBytes) return t("This file is larger than 10 MB.");
  const known = file.type ? TYPES.has(file.type) : EXTENSIONS.test(file.name);
  if (!known) return t("Only photos (JPEG, PNG, WebP, HEIC) and PDF files can be sent.");
  return null;
}

export function canPreview(file) {
  return PREVIEWABLE.has(file.type);
}

export function isImage(attachment) {
  return attachment.content_type.startsWith("image/");
}

export function sizeText(bytes) {
  const units = ["byte", "kilobyte", "megabyte"];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return new Intl.NumberFormat(document.documentElement.lang || "en", {
    style: "unit",
    unit: units[unit],
    unitDisplay: "short",
    maximumFractionDigits: unit === 0 ? 0 : 1,
  }).format(value);
}

// Saves an attachment under its name (fetched with the page's credentials first).
export async function download(attachment) {
  const url = await attachmentUrl(attachment.id);
  const link = document.createElement("a");
  link.href = url;
  link.download = attachment.name;
  link.rel = "noopener";
  document.body.append(link);
  link.click();
  link.remove();
}

// A sent attachment in a thread: a thumbnail button that opens the photo, or a download chip.
// ``width`` is the thumbnail's width in CSS pixels; ``icon`` and ``open`` are the app's own.
export function attachmentNode(attachment, { width, icon, open }) {
  if (isImage(attachment) && attachment.thumbnail) {
    const ratio = attachment.width && attachment.height ? attachment.height / attachment.width : 0.75;
    const img = h("img", {
      alt: attachment.name,
      width,
      height: Math.round(width * Math.min(Math.max(ratio, 0.3), 2)),
      decoding: "async",
    });
    attachmentUrl(attachment.id, true)
      .then((url) => {
        img.src = url;
      })
      .catch(() => img.classList.add("broken"));
    return h(
      "button",
      {
        type: "button",
        class: "thumb",
        "aria-label": t("Open photo {name}", { name: attachment.name }),
        on: { click: () => open(attachment) },
      },
      img,
    );
  }
  return h(
    "button",
    {
      type: "button",
      class: "file-chip",
      "aria-label": t("Download {name}", { name: attachment.name }),
      on: { click: () => download(attachment).catch(() => {}) },
    },
    icon("file"),
    h("span", { class: "file-name", text: attachment.name }),
    h("span", { class: "file-size", text: sizeText(attachment.size) }),
  );
}
