"""Every stylesheet is well-formed: braces balance and no rule is left open, so a later rule
is never swallowed by an unclosed one (which browsers silently ignore)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

SOURCES = Path(__file__).resolve().parents[1] / "src" / "eyelevel"
SHEETS = sorted(SOURCES.rglob("*.css"))


def test_there_are_stylesheets() -> None:
    assert len(SHEETS) >= 2


@pytest.mark.parametrize("sheet", SHEETS, ids=lambda p: str(p.relative_to(SOURCES)))
def test_braces_balance_and_top_level_rules_start_at_the_top(sheet: Path) -> None:
    depth = 0
    problems = []
    for number, line in enumerate(sheet.read_text().splitlines(), 1):
        code = re.sub(r"/\*.*?\*/", "", line)
        starts_rule = bool(line) and not line[0].isspace() and not line.startswith(("}", "/*"))
        if starts_rule and depth != 0:
            problems.append(f"line {number} starts a rule inside an open block: {line[:60]}")
        depth += code.count("{") - code.count("}")
        if depth < 0:
            problems.append(f"line {number} closes a block that is not open")
            depth = 0
    if depth:
        problems.append(f"{depth} block(s) never closed")
    assert problems == []
