// Translations: the page embeds this language's strings as JSON; t("English text") looks them up.
// Placeholders are written {name} and filled from the second argument.
import { config, isWidget } from "./config.js";

const node = document.getElementById("i18n");
const catalog = node ? JSON.parse(node.textContent) : {};

export const lang = config.lang;

function fill(text, vars) {
  if (!vars) return text;
  return text.replace(/\{(\w+)\}/g, (whole, key) => (key in vars ? String(vars[key]) : whole));
}

export function t(msgid, vars) {
  const found = catalog[msgid];
  return fill(typeof found === "string" && found ? found : msgid, vars);
}

// German and English share the rule "one" for n === 1, "other" for everything else.
export function tn(singular, plural, n, vars) {
  const forms = catalog[singular];
  const index = n === 1 ? 0 : 1;
  const text = Array.isArray(forms) && forms[index] ? forms[index] : index === 0 ? singular : plural;
  return fill(text, { n, ...vars });
}

const STORED = "eyelevel.lang";

// The widget lives in a cross-site iframe whose cookies a browser may drop: it remembers the
// choice in its own storage and asks for the page again with ?lang=.
export function setLanguage(code) {
  try {
    localStorage.setItem(STORED, code);
  } catch {
    // storage may be unavailable; the cookie still carries the choice
  }
  document.cookie = `lang=${code}; path=/; max-age=31536000; samesite=lax`;
  if (!isWidget) {
    location.reload();
    return;
  }
  const url = new URL(location.href);
  url.searchParams.set("lang", code);
  location.replace(url.toString());
}

// A choice made earlier in the widget wins over the host page's language.
export function applyStoredLanguage() {
  let stored = null;
  try {
    stored = localStorage.getItem(STORED);
  } catch {
    return false;
  }
  if (isWidget && stored && stored !== lang && stored in config.languages) {
    setLanguage(stored);
    return true;
  }
  return false;
}
