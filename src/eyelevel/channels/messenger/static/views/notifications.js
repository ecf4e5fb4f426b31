// "Notifications on this device": web push for the messenger app (not the widget). Turning it
// on asks the browser's permission, subscribes with the server's VAPID key and hands the
// subscription (endpoint and the browser's keys) to the server; turning it off removes it on
// the server and in the browser. The customer's other devices are listed and can be removed.
import { del, get, post } from "../api.js";
import { h } from "../dom.js";
import { lang, t } from "../i18n.js";
import { messageFor } from "../errors.js";
import { fullDate } from "../time.js";
import { busy, errorLine } from "./form.js";

export function pushSupported() {
  return "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
}

// applicationServerKey: the base64url public key as bytes
function keyBytes(base64url) {
  const base64 = base64url.replace(/-/g, "+").replace(/_/g, "/");
  const raw = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}

function sameKey(buffer, bytes) {
  if (!buffer) return false;
  const a = new Uint8Array(buffer);
  return a.length === bytes.length && a.every((v, i) => v === bytes[i]);
}

// "Firefox · Linux": enough to tell one's devices apart, no version numbers
export function deviceLabel(ua = navigator.userAgent) {
  const browsers = [
    [/Edg\//, "Edge"],
    [/OPR\//, "Opera"],
    [/Firefox\//, "Firefox"],
    [/Chrome\//, "Chrome"],
    [/Safari\//, "Safari"],
  ];
  const systems = [
    [/Android/, "Android"],
    [/iPhone|iPad/, "iOS"],
    [/Windows/, "Windows"],
    [/Mac OS X/, "macOS"],
    [/CrOS/, "ChromeOS"],
    [/Linux/, "Linux"],
  ];
  const fallback = t("Browser");
  const browser = (browsers.find(([re]) => re.test(ua)) || [null, fallback])[1];
  const system = (systems.find(([re]) => re.test(ua)) || [null, ""])[1];
  return system ? `${browser} · ${system}` : browser;
}

async function registration() {
  const found = await navigator.serviceWorker.getRegistration("/");
  if (found) return found;
  return navigator.serviceWorker.register("/sw.js");
}

function subscriptionBody(subscription) {
  const json = subscription.toJSON();
  return {
    endpoint: json.endpoint,
    keys: { p256dh: json.keys.p256dh, auth: json.keys.auth },
    label: deviceLabel(),
    lang,
  };
}

export function notificationsCard() {
  const state = h("p", { class: "push-state", role: "status" });
  const error = errorLine();
  const toggle = h("input", {
    type: "checkbox",
    role: "switch",
    id: "push-toggle",
    class: "switch",
    disabled: true,
  });
  const others = h("ul", { class: "devices" });
  const othersBlock = h(
    "div",
    { class: "push-others" },
    h("h4", { text: t("Other devices with notifications") }),
    others,
  );
  othersBlock.hidden = true;
  const node = h(
    "section",
    { class: "card", id: "notifications" },
    h("h3", { text: t("Notifications on this device") }),
    h("p", {
      class: "muted",
      text: t(
        "Get a notification when a company answers you. By default it says which company wrote, not what.",
      ),
    }),
    h(
      "div",
      { class: "push-row" },
      h("label", { for: "push-toggle", text: t("Notify me on this device") }),
      toggle,
    ),
    state,
    error.node,
    othersBlock,
  );

  let current = null; // this browser's PushSubscription, when any
  let mine = null; // the server's record of it, when any

  function show(devices) {
    mine = current ? devices.find((d) => d.endpoint === current.endpoint) || null : null;
    toggle.checked = Boolean(mine);
    toggle.disabled = Notification.permission === "denied";
    if (Notification.permission === "denied") {
      state.textContent = t(
        "Notifications are blocked for this site in your browser's settings. Allow them there to turn them on.",
      );
    } else if (mine) {
      state.textContent = mine.last_success_at
        ? t("On. Last notification: {when}.", { when: fullDate(mine.last_success_at) })
        : t("On.");
    } else {
      state.textContent = t("Off.");
    }
    const rest = devices.filter((d) => !mine || d.id !== mine.id);
    othersBlock.hidden = rest.length === 0;
    others.replaceChildren(...rest.map(deviceRow));
  }

  function deviceRow(d) {
    const device = d.label || t("Browser");
    const since = t("{device}, since {when}", { device, when: fullDate(d.created_at) });
    const remove = t("Remove {device}", { device });
    return h(
      "li",
      {},
      h("span", { text: since }),
      h("button", {
        type: "button",
        class: "link",
        text: t("Remove"),
        "aria-label": remove,
        on: {
          click: async () => {
            error.show("");
            try {
              await del(`/me/push-subscriptions/${d.id}`);
            } catch (e) {
              error.show(messageFor(e));
            }
            await refresh();
          },
        },
      }),
    );
  }

  async function refresh() {
    try {
      const reg = await registration();
      current = await reg.pushManager.getSubscription();
      show(await get("/me/push-subscriptions"));
    } catch (e) {
      error.show(messageFor(e));
    }
  }

  async function turnOn() {
    const permission = await Notification.requestPermission();
    if (permission !== "granted") {
      show([]);
      return;
    }
    const { public_key: publicKey } = await get("/push/key");
    const key = keyBytes(publicKey);
    const reg = await registration();
    let subscription = await reg.pushManager.getSubscription();
    if (subscription && !sameKey(subscription.options.applicationServerKey, key)) {
      await subscription.unsubscribe(); // made for another server key: useless now
      subscription = null;
    }
    if (!subscription) {
      subscription = await reg.pushManager.subscribe({
        userVisibleOnly: true,
        applicationServerKey: key,
      });
    }
    current = subscription;
    await post("/me/push-subscriptions", subscriptionBody(subscription));
  }

  async function turnOff() {
    if (mine) await del(`/me/push-subscriptions/${mine.id}`);
    if (current) await current.unsubscribe();
    current = null;
  }

  toggle.addEventListener("change", async () => {
    error.show("");
    busy(toggle, true);
    try {
      if (toggle.checked) await turnOn();
      else await turnOff();
    } catch (e) {
      error.show(
        e instanceof DOMException
          ? t("This browser could not turn on notifications. Please try again later.")
          : messageFor(e),
      );
    } finally {
      busy(toggle, false);
      await refresh();
    }
  });

  if (!pushSupported()) {
    toggle.disabled = true;
    state.textContent = t("This browser cannot show notifications.");
  } else {
    refresh();
  }
  return node;
}
