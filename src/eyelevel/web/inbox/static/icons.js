// The inbox's small inline icons (24×24 strokes drawn for this app), never fetched.
const PATHS = {
  inbox: "M4 13l2.5-8h11l2.5 8v6H4zM4 13h5l1 2h4l1-2h5",
  me: "M12 12a4 4 0 100-8 4 4 0 000 8zM4 20a8 8 0 0116 0",
  queue: "M5 7h14M5 12h14M5 17h9",
  chart: "M4 20h16M7 16v-5M12 16V6M17 16v-8",
  team: "M9 11a3 3 0 100-6 3 3 0 000 6zM3 19a6 6 0 0112 0M16 11a3 3 0 100-6M21 19a6 6 0 00-4-5.6",
  all: "M4 5h16v14H4zM4 10h16",
  at: "M16 12a4 4 0 11-8 0 4 4 0 018 0zm0 0v1.5a2.5 2.5 0 005 0V12a9 9 0 10-3.5 7.1",
  search: "M10.5 17a6.5 6.5 0 100-13 6.5 6.5 0 000 13zM15.5 15.5L20 20",
  note: "M5 4h10l4 4v12H5zM14 4v5h5M8 13h8M8 17h5",
  clip: "M16 7l-7.5 7.5a2.5 2.5 0 003.5 3.5L19.5 10a4.5 4.5 0 00-6.4-6.4L5.6 11.1a6.5 6.5 0 009.2 9.2L20 15",
  send: "M4 12l16-8-6 16-3-7-7-1z",
  check: "M5 12.5l4.5 4.5L19 7.5",
  clock: "M12 21a9 9 0 100-18 9 9 0 000 18zM12 7v5l3 2",
  pause: "M12 21a9 9 0 100-18 9 9 0 000 18zM10 9v6M14 9v6",
  reopen: "M4 12a8 8 0 0114-5.3M20 4v5h-5M20 12a8 8 0 01-14 5.3M4 20v-5h5",
  tag: "M3 12V4h8l10 10-8 8zM7.5 8.5h.01",
  user: "M12 12a4 4 0 100-8 4 4 0 000 8zM4 20a8 8 0 0116 0",
  plus: "M12 5v14M5 12h14",
  close: "M6 6l12 12M18 6L6 18",
  down: "M6 9l6 6 6-6",
  back: "M15 5l-7 7 7 7",
  keyboard: "M3 7h18v10H3zM7 11h.01M11 11h.01M15 11h.01M8 14h8",
  settings:
    "M12 15a3 3 0 100-6 3 3 0 000 6zM19 12a7 7 0 00-.1-1.2l2-1.6-2-3.4-2.4 1a7 7 0 00-2-1.2L14 3h-4l-.5 2.6a7 7 0 00-2 1.2l-2.4-1-2 3.4 2 1.6a7 7 0 000 2.4l-2 1.6 2 3.4 2.4-1a7 7 0 002 1.2L10 21h4l.5-2.6a7 7 0 002-1.2l2.4 1 2-3.4-2-1.6c.1-.4.1-.8.1-1.2z",
  out: "M15 4h4v16h-4M10 8l-4 4 4 4M6 12h10",
  file: "M7 3h7l5 5v13H7zM14 3v5h5",
  bell: "M6 16V11a6 6 0 0112 0v5l2 2H4zM10 20a2 2 0 004 0",
  panel: "M4 5h16v14H4zM15 5v14",
  canned: "M5 5h14v10H9l-4 4zM9 9h6M9 12h4",
  shield: "M12 3l8 3v6c0 5-3.5 8-8 9-4.5-1-8-4-8-9V6z",
  mail: "M3 6h18v12H3zM3 7l9 6 9-6",
  phone: "M6.5 3h3l1.5 4.5-2 1.5a11 11 0 005.5 5.5l1.5-2 4.5 1.5v3a2 2 0 01-2 2A16 16 0 014.5 5a2 2 0 012-2z",
};

export function icon(name, extra = "") {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  svg.setAttribute("class", `icon ${extra}`.trim());
  const path = document.createElementNS(ns, "path");
  path.setAttribute("d", PATHS[name] || PATHS.file);
  svg.append(path);
  return svg;
}
