"""Helpers for the page tests: read pages the way a user does (visible text, the nesting of the
objective tree) and snapshot the database to prove a refused request wrote nothing."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from govern.models import (
    AuditEvent,
    Department,
    Initiative,
    Membership,
    Milestone,
    Objective,
    Person,
    PlanVersion,
)

SKIPPED = {"script", "style", "head"}


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in SKIPPED:
            self.skipping += 1

    def handle_endtag(self, tag):
        if tag in SKIPPED and self.skipping:
            self.skipping -= 1

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


def text(response_or_html) -> str:
    """The page's visible text with whitespace collapsed to single spaces."""
    html = getattr(response_or_html, "content", response_or_html)
    if isinstance(html, bytes):
        html = html.decode()
    parser = _Text()
    parser.feed(html)
    return re.sub(r"\s+", " ", " ".join(parser.parts)).strip()


class _Tree(HTMLParser):
    """Maps each `<li data-objective=…>` to the objective `<li>` enclosing it (None at the top)."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, str | None]] = []
        self.parent_of: dict[str, str | None] = {}

    def handle_starttag(self, tag, attrs):
        if tag != "li":
            return
        objective = dict(attrs).get("data-objective")
        if objective is not None:
            enclosing = [o for _, o in self.stack if o is not None]
            self.parent_of[objective] = enclosing[-1] if enclosing else None
        self.stack.append((tag, objective))

    def handle_endtag(self, tag):
        if tag == "li" and self.stack:
            self.stack.pop()


def objective_tree(response) -> dict[int, int | None]:
    parser = _Tree()
    parser.feed(response.content.decode())
    return {
        int(child): (int(parent) if parent else None) for child, parent in parser.parent_of.items()
    }


GOVERNED = (
    Department,
    Person,
    Membership,
    Objective,
    Initiative,
    Initiative.objectives.through,
    Milestone,
    PlanVersion,
    AuditEvent,
)


def database_state() -> dict[str, list[dict]]:
    """Every governed row, for asserting that a refused request wrote nothing at all."""
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in GOVERNED}
