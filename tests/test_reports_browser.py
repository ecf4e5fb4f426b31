"""The Reports page in the browser (docs/reports.md): a lead sees the numbers the API computed
for a history built under a ``FakeClock`` (tests/test_reports.py), per week, team and agent,
with the CSV link for the same period; an agent has no Reports link."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Browser, expect

from eyelevel.clock import FakeClock
from tests.browser_support import assert_no_horizontal_scroll, screenshot
from tests.harness import start_server
from tests.test_inbox_browser import agent_logs_in, person
from tests.test_reports import PERIOD, T0, history

ROUTE = "#/reports?period=custom&from=2026-11-02&to=2026-11-15"


async def test_a_lead_reads_the_reports_page(db_url: str, tmp_path: Path, browser: Browser) -> None:
    clock = FakeClock(T0)
    async with start_server(db_url, tmp_path, clock=clock) as server:
        h = await history(server, clock)
        async with person(browser) as lea:
            page = lea.page
            await agent_logs_in(page, server, h.lea_email)
            link = page.locator(".sidebar a[href='#/reports']")
            await expect(link).to_have_text("Reports")
            await page.goto(f"{server.url}/app{ROUTE}")
            await expect(page.get_by_role("heading", name="Reports")).to_be_visible()
            main = page.locator("#report-main")
            week45 = main.locator("tr[data-key='2026-W45']")
            # c1 answered after 20 min, c2 after 45; 3 of 4 promises kept
            await expect(week45).to_contain_text("Week 45 · from 2026-11-02")
            await expect(week45.locator("td").nth(1)).to_have_text("3 / 4")
            await expect(week45.locator("td").nth(2)).to_have_text("75 %")
            await expect(week45.locator("td").nth(3)).to_have_text("20 min")
            await expect(week45.locator("td").nth(4)).to_have_text("45 min")
            week46 = main.locator("tr[data-key='2026-W46']")
            await expect(week46.locator("td").nth(1)).to_have_text("4 / 6")
            await expect(week46.locator("td").nth(6)).to_have_text("2 h")  # c3's resolution
            await expect(main.locator("tfoot tr")).to_contain_text("Total")
            await expect(page.locator("#report-topics")).to_contain_text("Rechnung")
            await expect(page.locator("#report-topics")).to_contain_text("No topic")
            await expect(
                page.locator("#report-channels tr").filter(has_text="Website widget")
            ).to_contain_text("2")
            csv = page.locator("#report-csv")
            await expect(csv).to_have_attribute(
                "href",
                f"/api/v1/companies/acme/reports.csv?from={PERIOD['from']}&to={PERIOD['to']}"
                "&group=week",
            )
            await assert_no_horizontal_scroll(page, "the reports page")
            await screenshot(page, "reports-week")

            await page.locator(".report-groups a", has_text="Per team").click()
            team = page.locator(f"#report-main tr[data-key='{h.technik}']")
            await expect(team).to_contain_text("Technik")
            await expect(team.locator("td").nth(1)).to_have_text("1 / 2")
            await page.locator(".report-groups a", has_text="Per agent").click()
            anna = page.locator(f"#report-main tr[data-key='{h.anna.id}']")
            await expect(anna).to_contain_text("Anna Albers")
            await expect(page.locator("#report-csv")).to_have_attribute(
                "href",
                "/api/v1/companies/acme/reports.csv?from=2026-11-02&to=2026-11-15&group=agent",
            )
            await screenshot(page, "reports-agent")
            # the CSV link works with the page's session
            r = await page.request.get(f"{server.url}{await csv.get_attribute('href')}")
            assert r.status == 200 and r.headers["content-type"] == "text/csv; charset=utf-8"
