"""The dependency matrix as a plotly heat-map: providers as rows, consumers as columns, each cell
coloured by the worst health among its contracts and labelled with the count and that health in
words (colour is never the only signal). Pure: takes `selectors.Matrix`, returns plotly JSON.
The accessible primary is the table on the matrix page; this is its picture."""

from __future__ import annotations

from dependencies.choices import ContractStatus, ServiceComparison

# Worst first, as `selectors.HEALTH_ORDER`; one colour per health.
HEALTH_COLOURS = (
    (ContractStatus.BREACHED, "#b42318"),
    (ContractStatus.AT_RISK, "#d97706"),
    (ContractStatus.PROPOSED, "#3b82f6"),
    (ContractStatus.DRAFT, "#9ca3af"),
    (ContractStatus.AGREED, "#15803d"),
    (ContractStatus.FULFILLED, "#7c3aed"),
    (ContractStatus.CANCELLED, "#d1d5db"),
)
RANK = {status: rank for rank, (status, _) in enumerate(HEALTH_COLOURS)}


def _colour_scale() -> list[list]:
    """A stepped scale: rank r (0 … n-1) gets exactly its colour."""
    n = len(HEALTH_COLOURS)
    scale = []
    for rank, (_, colour) in enumerate(HEALTH_COLOURS):
        scale.append([rank / n, colour])
        scale.append([(rank + 1) / n, colour])
    return scale


def matrix_chart(matrix) -> dict:
    """{"data", "layout", "config"} for `Plotly.newPlot`; rows top-down in the table's order."""
    departments = matrix.departments
    names = [d["name"] for d in departments]
    z, text, hover = [], [], []
    for provider in departments:
        z_row, text_row, hover_row = [], [], []
        for consumer in departments:
            cell = matrix.cells.get((provider["id"], consumer["id"]))
            if cell is None:
                z_row.append(None)
                text_row.append("")
                hover_row.append("")
                continue
            label = ContractStatus(cell.worst).label
            plural = "contract" if cell.count == 1 else "contracts"
            z_row.append(RANK[cell.worst] + 0.5)
            text_row.append(f"{cell.count} · {label}")
            hover_row.append(
                f"{provider['name']} → {consumer['name']}: {cell.count} {plural}, worst: {label}"
            )
        z.append(z_row)
        text.append(text_row)
        hover.append(hover_row)
    n = len(HEALTH_COLOURS)
    trace = {
        "type": "heatmap",
        "x": names,
        "y": names,
        "z": z,
        "zmin": 0,
        "zmax": n,
        "text": text,
        "texttemplate": "%{text}",
        "textfont": {"size": 12},  # plotly picks black or white against each cell
        "customdata": hover,
        "hovertemplate": "%{customdata}<extra></extra>",
        "colorscale": _colour_scale(),
        "xgap": 3,
        "ygap": 3,
        "hoverongaps": False,
        "colorbar": {
            "tickmode": "array",
            "tickvals": [rank + 0.5 for rank in range(n)],
            "ticktext": [status.label for status, _ in HEALTH_COLOURS],
            "title": {"text": "Worst health"},
            "thickness": 14,
        },
    }
    size = max(320, 48 * len(departments) + 140)
    layout = {
        "height": size,
        "margin": {"l": 140, "r": 16, "t": 24, "b": 110},
        "xaxis": {"title": {"text": "Consumer (depends)"}, "side": "bottom", "tickangle": -30},
        "yaxis": {"title": {"text": "Provider (delivers)"}, "autorange": "reversed"},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "font": {"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 12},
    }
    config = {"displaylogo": False, "responsive": True, "modeBarButtonsToRemove": ["lasso2d"]}
    return {"data": [trace], "layout": layout, "config": config}


THRESHOLD = "#7c3aed"


def service_level_chart(series, kpi, *, threshold: float, comparison: str) -> dict:
    """The KPI's chart (`kpis.charts.kpi_chart`) with the contract's service level drawn over it
    as a dashed line, named with its sign and value (e.g. "Contract: ≥ 90")."""
    from kpis.charts import kpi_chart

    figure = kpi_chart(series, kpi)
    periods = [row["period"].isoformat() for row in series]
    sign = {ServiceComparison.AT_LEAST: "≥", ServiceComparison.AT_MOST: "≤"}.get(comparison, "")
    name = f"Contract: {sign} {threshold:g}"
    figure["data"].append(
        {
            "type": "scatter",
            "mode": "lines",
            "name": name,
            "x": [periods[0], periods[-1]],
            "y": [threshold, threshold],
            "line": {"color": THRESHOLD, "width": 2, "dash": "dot"},
            "hovertemplate": f"{name}<extra></extra>",
        }
    )
    low, high = figure["layout"]["yaxis"]["range"]
    margin = (high - low) * 0.05 or 1.0
    figure["layout"]["yaxis"]["range"] = [
        min(low, threshold - margin),
        max(high, threshold + margin),
    ]
    return figure
