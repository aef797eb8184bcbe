"""Page timings: what users wait for, server time inside Django (the test client, no network),
p50/p95 over `repeat` requests after one warm-up, logged in as the PMO (who sees everything),
against `/readyz`, a trivial one-query page."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from govern.models import Person
from kpis.models import Kpi

PAGES = [
    ("reference: /readyz (1 query)", "/readyz"),
    ("dashboard", "/"),
    ("objectives (cascade tree)", "/objectives/"),
    ("initiatives list", "/initiatives/"),
    ("people list", "/people/"),
    ("departments list", "/departments/"),
    ("KPI list", "/kpis/"),
    ("exceptions list", "/exceptions/"),
    ("API initiatives", "/api/v1/initiatives/"),
    ("API milestones (overdue)", "/api/v1/milestones/?overdue=true"),
    ("API objectives tree", "/api/v1/objectives/tree/"),
]
DETAIL_KPI = "PROC-OTD"  # the demo's supply-chain story: red, with a forecast and exceptions


@dataclass
class PageTiming:
    label: str
    url: str
    p50: float  # ms
    p95: float
    queries: int
    ratio: float  # p50 / the reference's p50


def pages() -> list[tuple[str, str]]:
    kpi = Kpi.objects.filter(code=DETAIL_KPI).first() or Kpi.objects.order_by("pk").first()
    extra = [(f"KPI detail ({kpi.code})", reverse("kpi-detail", args=[kpi.pk]))] if kpi else []
    return [*PAGES[:8], *extra, *PAGES[8:]]


@override_settings(ALLOWED_HOSTS=["testserver"], DEBUG=False)
def measure_pages(repeat: int) -> list[PageTiming]:
    client = Client()
    client.force_login(Person.objects.get(username="pmo"))
    results: list[PageTiming] = []
    reference = None
    for label, url in pages():
        response = client.get(url)  # warm-up, and a check that the page works
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code}")
        timings = []
        for _ in range(repeat):
            started = time.perf_counter()
            client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
        with CaptureQueriesContext(connection) as captured:
            client.get(url)
        p50 = statistics.median(timings)
        p95 = statistics.quantiles(timings, n=20)[-1] if len(timings) >= 2 else timings[0]
        reference = reference or p50
        results.append(PageTiming(label, url, p50, p95, len(captured), p50 / reference))
    return results
