from __future__ import annotations

from tests.harness import Server


async def test_customer_writes_agent_answers_in_real_time(server: Server) -> None:
    company = await server.company("beispiel", "Beispiel GmbH")
    agent = await server.agent(company)
    customer = await server.customer()
    agent_ws = await agent.ws()
    customer_ws = await customer.ws()

    started = await customer.start_conversation("beispiel", "Mein Paket ist nicht angekommen.")
    conv_id = started["conversation"]["id"]
    seen = await agent_ws.wait_for(lambda f: f["type"] == "message.created")
    assert seen["data"]["body"] == "Mein Paket ist nicht angekommen."

    r = await agent.send(conv_id, "Das tut mir leid, ich schaue nach.", client_id="a1")
    assert r.status_code == 201, r.text
    got = await customer_ws.wait_for(
        lambda f: f["type"] == "message.created" and f["data"]["kind"] == "agent"
    )
    assert got["data"]["body"] == "Das tut mir leid, ich schaue nach."
    assert got["data"]["author"] == {"type": "agent", "name": "Anna"}
