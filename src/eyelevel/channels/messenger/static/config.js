// What the server put into the page: mode ("app" or "widget"), the widget's company, limits.
const node = document.getElementById("config");

export const config = Object.freeze({
  mode: "app",
  company: null,
  lang: "en",
  languages: { en: "English", de: "Deutsch" },
  maxUploadBytes: 10 * 1024 * 1024,
  maxBodyChars: 10000,
  ...(node ? JSON.parse(node.textContent) : {}),
});

export const isWidget = config.mode === "widget";
