"""Notifications on this device, in real Chromium: the settings switch, the service worker's
``push`` and ``notificationclick`` handlers.

Headless Chromium has no push service to register with: ``pushManager.subscribe`` fails there
("Registration failed"), which the first test shows the customer as an error, storing nothing.
The second test replaces only ``PushManager``'s ``subscribe``/``getSubscription`` in the page
with a subscription whose keys the test made (as a browser would) for a loopback push endpoint;
everything else is real: the switch asks for permission, passes the served VAPID key, hands
the subscription to the server, and the server's worker then pushes an encrypted notification
that the endpoint decrypts. That notification is handed to the real service worker as a
``push`` event; its notification's click opens the conversation.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, Page, Worker, expect

from eyelevel.clock import FakeClock
from eyelevel.core.actions import push as push_actions
from eyelevel.core.ids import ConversationId, CustomerId
from eyelevel.core.push import PushNotice
from tests.browser_support import screenshot
from tests.harness import Server, start_server
from tests.push_service import Device, b64url, verify_vapid
from tests.test_inbox_browser import customer_signs_in, email_for, person
from tests.test_push import LOOPBACK
from tests.webhook_receiver import receiver

API = "/api/v1"

# the page's PushManager, made to hand out the test's subscription (window.__push records
# what the page asked for)
FAKE_PUSH_MANAGER = """
(() => {
  const sub = %s;
  const state = { subscribed: false, key: null, unsubscribed: 0 };
  window.__push = state;
  const make = () => ({
    endpoint: sub.endpoint,
    options: { applicationServerKey: state.key, userVisibleOnly: true },
    toJSON: () => ({ endpoint: sub.endpoint, expirationTime: null, keys: sub.keys }),
    unsubscribe: async () => {
      state.subscribed = false;
      state.unsubscribed += 1;
      return true;
    },
  });
  PushManager.prototype.subscribe = async function (options) {
    state.key = options.applicationServerKey.buffer.slice(0);
    state.userVisibleOnly = options.userVisibleOnly;
    state.keyBytes = Array.from(new Uint8Array(options.applicationServerKey));
    state.subscribed = true;
    return make();
  };
  PushManager.prototype.getSubscription = async function () {
    return state.subscribed ? make() : null;
  };
})();
"""


def switch(page: Page) -> Any:
    return page.get_by_role("switch", name="Notify me on this device")


async def devices(server: Server, c: Any) -> list[dict[str, Any]]:
    r = await c.get(f"{API}/me/push-subscriptions")
    assert r.status_code == 200, r.text
    return list(r.json())


async def service_worker(page: Page) -> Worker:
    await page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    for _ in range(100):
        if page.context.service_workers:
            return page.context.service_workers[0]
        await asyncio.sleep(0.05)
    raise AssertionError("no service worker")


async def test_without_a_push_service_the_switch_says_so(server: Server, browser: Browser) -> None:
    kim_email = email_for("kim")
    kim = await server.customer(kim_email, name="Kim K.")
    async with person(browser, permissions=["notifications"]) as customer:
        page = customer.page
        await customer_signs_in(page, server, kim_email)
        await page.goto(f"{server.url}/#/settings")
        await expect(page.get_by_text("Off.", exact=True)).to_be_visible()
        await switch(page).check()
        await expect(page.get_by_role("alert")).to_contain_text(
            "This browser could not turn on notifications"
        )
        await expect(switch(page)).not_to_be_checked()
        assert await devices(server, kim) == []


async def test_the_switch_subscribes_and_a_push_opens_the_conversation(
    db_url: str, tmp_path: Path, browser: Browser
) -> None:
    clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
    async with (
        start_server(db_url, tmp_path, clock=clock, **LOOPBACK) as server,
        receiver() as rx,
    ):
        company = await server.company("beispiel", "Beispiel GmbH")
        kim_email = email_for("kim")
        kim = await server.customer(kim_email, name="Kim K.")
        conv = (await kim.start_conversation("beispiel", "Wo bleibt mein Paket?"))["conversation"]
        key = (await kim.get(f"{API}/push/key")).json()["public_key"]
        device = Device(f"http://127.0.0.1:{rx.port}/push/kim")

        async with person(browser, permissions=["notifications"]) as customer:
            page = customer.page
            fake = device.subscription()
            await customer.context.add_init_script(FAKE_PUSH_MANAGER % json.dumps(fake))
            await customer_signs_in(page, server, kim_email)
            await page.goto(f"{server.url}/#/settings")
            await expect(page.get_by_text("Off.", exact=True)).to_be_visible()
            await switch(page).check()
            await expect(page.get_by_text("On.", exact=True)).to_be_visible()
            await expect(switch(page)).to_be_checked()
            asked = await page.evaluate("window.__push")
            assert asked["userVisibleOnly"] is True
            assert b64url(bytes(asked["keyBytes"])) == key  # the served VAPID key
            [stored] = await devices(server, kim)
            assert stored["endpoint"] == device.endpoint
            assert stored["lang"] == "en" and "Chrome" in stored["label"]
            await screenshot(page, "push-settings-on")

            # the server pushes; the loopback endpoint decrypts what the switch subscribed
            await push_actions.queue_push(
                server.runtime.ctx,
                CustomerId(kim.id),
                company,
                PushNotice("reply", ConversationId(conv["id"]), "Es ist unterwegs."),
                False,
            )
            [req] = await rx.wait_for(1)
            message = device.decrypt(req)
            verify_vapid(req, key, audience=f"http://127.0.0.1:{rx.port}", now=clock.now())
            assert message["body"] == "New reply from Beispiel GmbH"

            # the service worker shows it, one per conversation, and a click opens it
            await page.goto(f"{server.url}/#/")
            sw = await service_worker(page)
            shown = await sw.evaluate(
                """async (data) => {
                  const event = new PushEvent("push", { data });
                  const waits = [];
                  event.waitUntil = (p) => waits.push(p);
                  self.dispatchEvent(event);
                  await Promise.all(waits);
                  const found = await self.registration.getNotifications();
                  return found.map((n) => ({ title: n.title, body: n.body, tag: n.tag }));
                }""",
                json.dumps(message),
            )
            assert shown == [
                {"title": "Beispiel GmbH", "body": message["body"], "tag": f"c{conv['id']}"}
            ]
            await sw.evaluate(
                """async () => {
                  const [notification] = await self.registration.getNotifications();
                  const event = new NotificationEvent("notificationclick", { notification });
                  const waits = [];
                  event.waitUntil = (p) => waits.push(p);
                  self.dispatchEvent(event);
                  await Promise.all(waits);
                }"""
            )
            await expect(page).to_have_url(f"{server.url}/#/chat/{conv['id']}")

            # off again: gone on the server and in the browser
            await page.goto(f"{server.url}/#/settings")
            await expect(page.get_by_text("On. Last notification:")).to_be_visible()
            await expect(switch(page)).to_be_checked()
            await screenshot(page, "push-settings-delivered")
            await switch(page).uncheck()
            await expect(page.get_by_text("Off.", exact=True)).to_be_visible()
            assert await devices(server, kim) == []
            assert (await page.evaluate("window.__push"))["unsubscribed"] == 1
