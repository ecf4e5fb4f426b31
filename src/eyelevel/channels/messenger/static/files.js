// Attachments: what may be sent, how big, and opening what was sent.
import { attachmentUrl } from "./api.js";
import { config } from "./config.js";
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
