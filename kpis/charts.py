"""The KPI chart as plotly.js JSON: built from the stored results (`selectors.kpi_series`), never
from a computation in the request. Pure: no ORM, no I/O.

Traces, bottom to top: the red and amber tolerance zones as shaded areas (for a within-band KPI,
the band itself with its amber margins), the plan line, the actuals as markers coloured by their
status, the forecast dashed, and rings around the periods with an open exception."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from kpis.choices import Direction, Status, ToleranceMode

COLOURS = {
    Status.ON_TRACK: "#15803d",
    Status.AMBER: "#d97706",
    Status.RED: "#b42318",
    Status.MISSING: "#6b7280",
    Status.PENDING: "#9ca3af",
    Status.NO_PLAN: "#9ca3af",
    "": "#2563eb",
}
PLAN = "#1f2937"
ACTUAL = "#2563eb"
AMBER_FILL = "rgba(245, 158, 11, 0.18)"
RED_FILL = "rgba(220, 38, 38, 0.12)"
BAND_FILL = "rgba(22, 163, 74, 0.12)"
EDGE = {"width": 0}


def _iso(period) -> str:
    return period.isoformat() if isinstance(period, dt.date) else str(period)


def _width(kpi, reference: float, threshold: float) -> float:
    """A tolerance threshold in the KPI's units around `reference` (a plan or a band edge)."""
    if kpi.tolerance_mode == ToleranceMode.ABSOLUTE or reference == 0:
        return threshold
    return abs(reference) * threshold / 100.0


def _edge(name: str, x: list[str], y: list[float]) -> dict:
    return {
        "type": "scatter",
        "mode": "lines",
        "name": name,
        "x": x,
        "y": y,
        "line": EDGE,
        "hoverinfo": "skip",
        "showlegend": False,
    }


def _zone(name: str, x: list[str], y: list[float], fill: str, group: str) -> dict:
    """Filled down (or up) to the trace before it."""
    return {
        "type": "scatter",
        "mode": "lines",
        "name": name,
        "x": x,
        "y": y,
        "line": EDGE,
        "fill": "tonexty",
        "fillcolor": fill,
        "hoverinfo": "skip",
        "legendgroup": group,
    }


def _bounds(values: Iterable[float | None]) -> tuple[float, float]:
    numbers = [v for v in values if v is not None]
    if not numbers:
        return 0.0, 1.0
    low, high = min(numbers), max(numbers)
    margin = (high - low) * 0.15 or abs(high) * 0.15 or 1.0
    return low - margin, high + margin


def _marked_value(row: dict) -> float | None:
    """Where an exception ring sits: on the actual, else the forecast, else the plan."""
    for name in ("actual", "forecast", "plan"):
        if row.get(name) is not None:
            return row[name]
    return None


def _tolerance_traces(kpi, planned: list[dict]) -> list[dict]:
    x = [_iso(row["period"]) for row in planned]
    plans = [row["plan"] for row in planned]
    if kpi.direction == Direction.WITHIN_BAND:
        low, high = kpi.band_low, kpi.band_high
        amber_low = low - _width(kpi, low, kpi.amber_threshold)
        amber_high = high + _width(kpi, high, kpi.amber_threshold)
        red_low = low - _width(kpi, low, kpi.red_threshold)
        red_high = high + _width(kpi, high, kpi.red_threshold)
        n = len(x)
        # Inside the band and within the amber margin beyond it is on track; between the amber
        # and the red margins is amber (shaded); beyond the red margin is red.
        return [
            _edge("red edge (low)", x, [red_low] * n),
            _zone("Amber tolerance", x, [amber_low] * n, AMBER_FILL, "amber"),
            _edge("band low", x, [low] * n),
            _zone("Band", x, [high] * n, BAND_FILL, "band"),
            _edge("amber edge (high)", x, [amber_high] * n),
            _zone("Amber tolerance", x, [red_high] * n, AMBER_FILL, "amber")
            | {"showlegend": False},
        ]
    sign = -1.0 if kpi.direction == Direction.HIGHER_IS_BETTER else 1.0
    amber = [p + sign * _width(kpi, p, kpi.amber_threshold) for p in plans]
    red = [p + sign * _width(kpi, p, kpi.red_threshold) for p in plans]
    # The red zone runs from the red edge to a little beyond it, as far again as the amber zone.
    beyond = [r + (r - a) for a, r in zip(amber, red, strict=True)]
    return [
        _edge("plan edge", x, amber),
        _zone("Amber tolerance", x, red, AMBER_FILL, "amber"),
        _zone("Red tolerance", x, beyond, RED_FILL, "red"),
    ]


def kpi_chart(series: Sequence[dict], kpi, *, exception_periods: Iterable[dt.date] = ()) -> dict:
    """{"data": [...traces], "layout": {...}, "config": {...}} for `Plotly.newPlot`."""
    planned = [row for row in series if row.get("plan") is not None]
    actuals = [row for row in series if row.get("actual") is not None]
    forecasts = [row for row in series if row.get("forecast") is not None]
    missing = [row for row in planned if row.get("status") == Status.MISSING]
    data: list[dict] = []
    if planned:
        data += _tolerance_traces(kpi, planned)
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": "Plan",
                "x": [_iso(r["period"]) for r in planned],
                "y": [r["plan"] for r in planned],
                "line": {"color": PLAN, "width": 2, "shape": "linear"},
                "hovertemplate": "Plan %{y:,.4~g}<extra></extra>",
            }
        )
    if actuals:
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": "Actual",
                "x": [_iso(r["period"]) for r in actuals],
                "y": [r["actual"] for r in actuals],
                "line": {"color": ACTUAL, "width": 2},
                "marker": {
                    "size": 9,
                    "color": [COLOURS.get(r.get("status") or "", ACTUAL) for r in actuals],
                    "line": {"color": "#ffffff", "width": 1},
                },
                "customdata": [
                    Status(r["status"]).label if r.get("status") in Status.values else ""
                    for r in actuals
                ],
                "hovertemplate": "Actual %{y:,.4~g} · %{customdata}<extra></extra>",
            }
        )
    if forecasts:
        # The dashed line starts at the last actual so the trend reads as one line.
        anchor = [actuals[-1]] if actuals and actuals[-1]["period"] < forecasts[0]["period"] else []
        xs = [_iso(r["period"]) for r in anchor] + [_iso(r["period"]) for r in forecasts]
        ys = [r["actual"] for r in anchor] + [r["forecast"] for r in forecasts]
        colours = [ACTUAL] * len(anchor) + [
            COLOURS.get(r.get("forecast_status") or "", ACTUAL) for r in forecasts
        ]
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": "Forecast",
                "x": xs,
                "y": ys,
                "line": {"color": ACTUAL, "width": 2, "dash": "dash"},
                "marker": {"size": 7, "symbol": "circle-open", "color": colours},
                "hovertemplate": "Forecast %{y:,.4~g}<extra></extra>",
            }
        )
    if missing:
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": "Missing data",
                "x": [_iso(r["period"]) for r in missing],
                "y": [r["plan"] for r in missing],
                "marker": {
                    "size": 10,
                    "symbol": "x-thin-open",
                    "color": COLOURS[Status.MISSING],
                    "line": {"width": 2, "color": COLOURS[Status.MISSING]},
                },
                "hovertemplate": "No actual for %{x}<extra></extra>",
            }
        )
    flagged = {_iso(p) for p in exception_periods}
    marked = [r for r in series if _iso(r["period"]) in flagged]
    if marked:
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": "Open exception",
                "x": [_iso(r["period"]) for r in marked],
                "y": [_marked_value(r) for r in marked],
                "marker": {
                    "size": 20,
                    "symbol": "circle-open",
                    "color": COLOURS[Status.RED],
                    "line": {"width": 2},
                },
                "hovertemplate": "Open exception · %{x}<extra></extra>",
            }
        )
    low, high = _bounds(
        value
        for trace in data
        if trace["name"] not in ("Red tolerance",) and "y" in trace
        for value in trace["y"]
    )
    layout = {
        "margin": {"l": 56, "r": 16, "t": 8, "b": 40},
        "height": 340,
        "hovermode": "x unified",
        "showlegend": True,
        "legend": {"orientation": "h", "y": -0.18, "x": 0},
        "xaxis": {"type": "date", "showgrid": False},
        "yaxis": {
            "title": {"text": kpi.get_unit_display()},
            "zeroline": False,
            "range": [low, high],
            "gridcolor": "#eef0f3",
        },
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "font": {"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 12},
    }
    config = {"displaylogo": False, "responsive": True, "modeBarButtonsToRemove": ["lasso2d"]}
    return {"data": data, "layout": layout, "config": config}
