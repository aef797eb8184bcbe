"""The ripple as a plotly Sankey: the start on the left, each reached node to the right of the
node before it on its shortest path, each node coloured by its state (the worst open exception
included) and named in words (colour is never the only signal). A link's width is the number of
nodes reached through it. Departments (the sinks every node flows into) are left out: the page
lists them. Pure: takes `ripple_selectors.RippleResult`, returns plotly JSON."""

from __future__ import annotations

from dependencies.choices import NodeType

CHART_LIMIT = 150  # nodes drawn, the nearest first; the table below the chart lists them all
TONE_COLOURS = {
    "danger": "#b42318",
    "warning": "#d97706",
    "success": "#15803d",
    "neutral": "#64748b",
    "muted": "#cbd5e1",
}
LINK_COLOURS = {
    "danger": "rgba(180, 35, 24, 0.28)",
    "warning": "rgba(217, 119, 6, 0.28)",
    "success": "rgba(21, 128, 61, 0.22)",
    "neutral": "rgba(100, 116, 139, 0.22)",
    "muted": "rgba(148, 163, 184, 0.2)",
}
VIA = {
    "measures": "measures",
    "serves": "serves",
    "part_of": "belongs to",
    "produces": "produces",
    "measured_by": "measures the service level of",
    "depends_on": "is depended on by",
    "owns": "owns",
}


def drawn_nodes(result) -> list:
    """The nodes the chart draws: the nearest CHART_LIMIT reached nodes that are not
    departments."""
    return [n for n in result.nodes if n.type != NodeType.DEPARTMENT][:CHART_LIMIT]


def ripple_sankey(result) -> dict | None:
    """{"data", "layout", "config"} for `Plotly.newPlot`, or None when nothing is reached."""
    nodes = drawn_nodes(result)
    if not nodes:
        return None
    everything = [result.start, *nodes]
    position = {node.key: i for i, node in enumerate(everything)}
    below: dict[str, int] = {node.key: 1 for node in nodes}  # nodes reached through each
    for node in reversed(nodes):  # breadth-first order reversed: children before parents
        parent = node.path[-2]
        if parent in below:
            below[parent] += below[node.key]
    labels, colours, hovers = [], [], []
    for node in everything:
        state = f" · {node.status_label}" if node.visible and node.status_label else ""
        exception = f" · open exception: {node.exception.kind_label}" if node.exception else ""
        labels.append(_label(node))
        colours.append(TONE_COLOURS.get(node.tone, TONE_COLOURS["neutral"]))
        hovers.append(f"{node.type_label}: {node.display}{state}{exception}")
    sources, targets, values, link_colours, link_hovers = [], [], [], [], []
    for node in nodes:
        parent = node.path[-2]
        if parent not in position:
            continue
        sources.append(position[parent])
        targets.append(position[node.key])
        values.append(below[node.key])
        link_colours.append(LINK_COLOURS.get(node.tone, LINK_COLOURS["neutral"]))
        parent_label = everything[position[parent]].display
        link_hovers.append(f"{parent_label} {VIA.get(node.via, node.via)} → {node.display}")
    data = [
        {
            "type": "sankey",
            "arrangement": "snap",
            "node": {
                "label": labels,
                "color": colours,
                "customdata": hovers,
                "hovertemplate": "%{customdata}<extra></extra>",
                "pad": 14,
                "thickness": 14,
                "line": {"color": "#ffffff", "width": 0.5},
            },
            "link": {
                "source": sources,
                "target": targets,
                "value": values,
                "color": link_colours,
                "customdata": link_hovers,
                "hovertemplate": "%{customdata}<extra></extra>",
            },
        }
    ]
    column: dict[int, int] = {}
    for node in nodes:
        column[node.depth] = column.get(node.depth, 0) + 1
    height = max(360, min(1600, 40 * max(column.values())))
    layout = {
        "margin": {"l": 8, "r": 8, "t": 8, "b": 8},
        "height": height,
        "font": {"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 12},
        "paper_bgcolor": "rgba(0,0,0,0)",
    }
    config = {"displaylogo": False, "responsive": True, "displayModeBar": False}
    return {"data": data, "layout": layout, "config": config}


def _label(node) -> str:
    """Short enough to sit beside its bar: a KPI's or contract's code, else the name cut to 36
    characters; for a node the user may not see, its type and department."""
    if not node.visible:
        return f"{node.type_label} · {node.department}" if node.department else node.type_label
    if node.type in (NodeType.KPI, NodeType.CONTRACT):
        return node.label.split(" — ", 1)[0]
    text = node.label
    return text if len(text) <= 36 else text[:35] + "…"
