"""Plotly figure builders: one definition of every chart, used by the app and the PDF pack.

Colours come from the Okabe-Ito palette, which people with the common forms of
colour-blindness can tell apart; red/amber/green is always paired with a word or symbol.
"""

from __future__ import annotations

import html

import plotly.graph_objects as go
import plotly.io as pio
import polars as pl

from housing_assurance.kpis import Kpi
from housing_assurance.targets import Target

# Okabe-Ito: blue, orange, bluish green, vermillion, sky blue, reddish purple, yellow, grey.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F0E442", "#999999"]
GREY = "#999999"  # targets and reference lines
INK = "#1f2933"
FONT = dict(family="DejaVu Sans, Arial, sans-serif", size=12, color=INK)

# Plotly's own template, cut to what flat charts of the only two kinds of trace drawn here (scatter and bar)
# read: the same drawing (tests/test_pack.py compares them), but set on a figure in a quarter of the time.
# Plotly's whole template also styles some twenty other kinds of trace, 3-D scenes, maps and colour
# scales; copying it onto each figure was most of the time to build one (a 26-page pack builds 31).
TRACE_KINDS = ("scatter", "bar")
_PLOTLY = pio.templates["plotly"]
HOUSE_TEMPLATE = go.layout.Template(
    layout={k: v for k, v in _PLOTLY.layout.to_plotly_json().items()
            if k not in ("scene", "polar", "ternary", "geo", "coloraxis", "colorscale")},
    data={kind: _PLOTLY.data[kind] for kind in TRACE_KINDS})


def shown(value: object) -> str:
    """Text from the data as a chart shows it: Plotly reads a few HTML tags in labels and hover text
    (a link, bold, a line break), so the text is escaped and shows as itself."""
    return html.escape(str(value), quote=False)


def _layout(fig: go.Figure, title: str | None = None, height: int = 320, **overrides: object) -> go.Figure:
    """The house style, as a new figure of fig's traces (made in one step: Plotly's update_layout takes
    three times as long). The template is set, not left to the default: inside Streamlit the default is
    Streamlit's own, which gave the app-made pack other margins and clipped axes than `report`'s. The
    house axes win over the builder's own settings of the same keys; `overrides` (a legend …) over the house's."""
    layout = fig.layout.to_plotly_json()
    layout.update(template=HOUSE_TEMPLATE, title=dict(text=title, x=0, font=dict(size=14)) if title else None,
                  font=FONT, height=height, margin=dict(l=10, r=10, t=40 if title else 10, b=10), plot_bgcolor="white",
                  paper_bgcolor="white", showlegend=False)
    layout["xaxis"] = {**layout.get("xaxis", {}), "showgrid": False, "linecolor": "#cbd2d9"}
    layout["yaxis"] = {**layout.get("yaxis", {}), "gridcolor": "#e4e7eb", "zeroline": False}
    return go.Figure(data=fig.data, layout={**layout, **overrides})


def _value_suffix(k: Kpi) -> str:
    return "%" if k.kind == "pct" else ""


def _value_format(k: Kpi) -> str:
    """A KPI's figure in hover text, thousands separated: whole for counts and sums, else one decimal place."""
    return ",.0f" if k.kind in ("count", "sum") else ",.2f" if k.kind == "sum_gbp" else ",.1f"


LONG_AXIS_DAYS = 120  # a date axis longer than about four months names months and years, not days


def date_ticks(dates: list) -> dict:
    """A date axis's ticks: '16 Nov' over a few weeks, 'Jan 2026' every other month over a longer span
    (a year's axis always says which year), from the dates alone, whoever draws the chart."""
    known = [d for d in dates if d is not None]
    if len(known) > 1 and (max(known) - min(known)).days > LONG_AXIS_DAYS:
        return {"tickformat": "%b %Y", "dtick": "M2", "tick0": "2000-01-01"}
    return {"tickformat": "%-d %b"}


def trend_chart(series: pl.DataFrame, k: Kpi, target: Target | None = None, title: str | None = None,
                height: int = 300) -> go.Figure:
    """A KPI's weekly figures (columns as_of, value) with its target as a dashed line."""
    values_axis = {"ticksuffix": "%"} if k.kind == "pct" else {"tickformat": ","}
    layout: dict = {"xaxis": date_ticks(series["as_of"].to_list()), "yaxis": {"rangemode": "tozero", **values_axis}}
    if target is not None and target.target is not None:  # a dashed line across the plot, labelled at its left
        layout["shapes"] = [dict(type="line", xref="x domain", x0=0, x1=1, yref="y", y0=target.target,
                                 y1=target.target, line=dict(color=INK, dash="dash", width=1))]
        layout["annotations"] = [dict(text=f"target {target.target:,g}{_value_suffix(k)}", showarrow=False,
                                      xref="x domain", x=0, xanchor="left", yref="y", y=target.target,
                                      yanchor="bottom", font=dict(size=10))]
    fig = go.Figure(go.Scatter(
        x=series["as_of"].to_list(), y=series["value"].to_list(), mode="lines+markers",
        line=dict(color=PALETTE[0], width=2), marker=dict(size=5), name=k.title,
        hovertemplate=("Week ending %{x|%-d %b %Y}: " + ("£" if k.kind == "sum_gbp" else "")
                       + "%{y:" + _value_format(k) + "}" + _value_suffix(k) + "<extra></extra>")), layout=layout)
    return _layout(fig, title or k.title, height)


def breakdown_bar(frame: pl.DataFrame, category: str, value: str, title: str, value_suffix: str = "",
                  colour: str = PALETTE[0], height: int = 300, horizontal: bool = True) -> go.Figure:
    """Bars by region, team, contractor, category … (clickable in the app: each bar drills down)."""
    cats = [shown(c) for c in frame[category].to_list()]
    vals = frame[value].to_list()
    text = [f"{v:,.1f}{value_suffix}" if v is not None else "—" for v in vals]
    bar = go.Bar(y=cats, x=vals, orientation="h", text=text) if horizontal else go.Bar(x=cats, y=vals, text=text)
    bar.update(marker_color=colour, textposition="auto", customdata=cats,
               hovertemplate="%{customdata}: %{text}<extra></extra>")
    fig = go.Figure(bar)
    (fig.update_xaxes if horizontal else fig.update_yaxes)(ticksuffix=value_suffix or None)
    if horizontal:
        fig.update_yaxes(autorange="reversed")
    return _layout(fig, title, max(height, 28 * len(cats) + 60) if horizontal else height)


def whole_number_ticks(fig: go.Figure, top: float | None, axis: str = "y") -> go.Figure:
    """Counts come in whole numbers: no 0.5 ticks on an axis whose largest value is small."""
    ticks: dict = {"tickformat": ",d"}
    if top is None or top <= 5:
        ticks.update(tick0=0, dtick=1)
    (fig.update_yaxes if axis == "y" else fig.update_xaxes)(**ticks)
    return fig


def count_breakdown_bar(frame: pl.DataFrame, category: str, value: str, title: str, colour: str = PALETTE[0],
                        height: int = 300) -> go.Figure:
    """breakdown_bar for whole counts (cases by region …): labels read 12, not 12.0; whole-number ticks."""
    fig = breakdown_bar(frame, category, value, title, colour=colour, height=height)
    values = frame[value].to_list()
    fig.update_traces(text=[f"{v:,.0f}" if v is not None else "—" for v in values])
    return whole_number_ticks(fig, max((v for v in values if v is not None), default=None), axis="x")


# ---------------------------------------------------------------- the app's pages (also fit for the pack)

LANE_COLOURS = {
    "Damp and mould": PALETTE[3], "Repair jobs": PALETTE[0], "Appointments": PALETTE[4],
    "Contacts": PALETTE[7], "Complaints": PALETTE[5], "Surveys": PALETTE[2],
}
LANE_SYMBOLS = {
    "Damp and mould": "diamond", "Repair jobs": "square", "Appointments": "circle",
    "Contacts": "triangle-up", "Complaints": "star", "Surveys": "cross",
}
CLOCK_STATUS = {  # met / missed / running: a symbol as well as a colour
    "met": ("✓ met", PALETTE[2], "circle"),
    "missed (done late)": ("✕ missed, done late", PALETTE[3], "x"),
    "missed (not done)": ("✕ missed, not done", PALETTE[3], "x"),
    "running": ("… running", PALETTE[7], "circle-open"),
    "cancelled": ("· cancelled", PALETTE[7], "circle-open"),
}


def paired_bars(frame: pl.DataFrame, measure: str, group: str, value: str, title: str,
                value_suffix: str = "%", height: int = 300) -> go.Figure:
    """Side-by-side bars per measure, one per group (in-house beside external contractors)."""
    fig = go.Figure()
    for i, name in enumerate(frame[group].unique(maintain_order=True).to_list()):
        part = frame.filter(pl.col(group) == name)
        vals = part[value].to_list()
        fig.add_trace(go.Bar(
            name=name, x=part[measure].to_list(), y=vals, marker_color=PALETTE[i % len(PALETTE)],
            marker_pattern_shape=["", "/", ".", "x"][i % 4],
            text=[f"{v:,.1f}{value_suffix}" if v is not None else "—" for v in vals], textposition="auto",
            hovertemplate="%{x}, " + name + ": %{text}<extra></extra>"))
    fig.update_layout(barmode="group")
    fig = _layout(fig, title, height, showlegend=True, legend=dict(orientation="h", y=-0.15, x=0))
    if value_suffix == "%":
        fig.update_yaxes(range=[0, 100], ticksuffix="%")
    return fig


def team_comparison_chart(frame: pl.DataFrame, label: str, value: str, title: str, highlight: str | None = None,
                          value_suffix: str = "", height: int = 300) -> go.Figure:
    """One dot per team for one measure, the highlighted team (a manager's own) in orange and bold."""
    labels = [shown(v) for v in frame[label].to_list()]
    highlight = shown(highlight) if highlight is not None else None
    vals = frame[value].to_list()
    colours = [PALETTE[1] if lab == highlight else PALETTE[0] for lab in labels]
    sizes = [14 if lab == highlight else 9 for lab in labels]
    whole = all(v is None or float(v).is_integer() for v in vals) and value_suffix != "%"
    text = [("—" if v is None else f"{v:,.0f}" if whole else f"{v:,.1f}{value_suffix}") for v in vals]
    fig = go.Figure(go.Scatter(
        x=vals, y=labels, mode="markers+text", marker=dict(color=colours, size=sizes,
                                                           symbol=["diamond" if c == PALETTE[1] else "circle"
                                                                   for c in colours]),
        text=text, textposition="middle right", cliponaxis=False,
        hovertemplate="%{y}: %{text}<extra></extra>"))
    fig.update_yaxes(autorange="reversed", tickvals=labels,
                     ticktext=[f"<b>{lab}</b>" if lab == highlight else lab for lab in labels])
    top = max((v for v in vals if v is not None), default=0) or 1
    fig.update_xaxes(range=[0, min(top * 1.25, 108) if value_suffix == "%" else top * 1.25],
                     ticksuffix=value_suffix if value_suffix == "%" else None, dtick=1 if whole and top <= 5 else None)
    return _layout(fig, title, max(height, 26 * len(labels) + 60))


def timeline_chart(events: pl.DataFrame, deadlines: pl.DataFrame | None = None, title: str | None = None,
                   height: int = 360) -> go.Figure:
    """A case's story: one lane per kind of event (columns event_at, lane, event, detail), and a lane of
    the clocks' deadlines (columns label, due_by, status), each marked met / missed / running by
    symbol and colour, with the status in words on hover and in the legend."""
    fig = go.Figure()
    lanes = [lane for lane in LANE_COLOURS if lane in set(events["lane"].to_list())]
    for lane in lanes:
        part = events.filter(pl.col("lane") == lane)
        details = [shown(d or "") for d in part["detail"].to_list()]
        fig.add_trace(go.Scatter(
            x=part["event_at"].to_list(), y=[lane] * len(part), mode="markers", name=lane, showlegend=False,
            marker=dict(color=LANE_COLOURS[lane], symbol=LANE_SYMBOLS[lane], size=11,
                        line=dict(width=1, color="white")),
            customdata=list(zip(map(shown, part["event"].to_list()), details, strict=True)),
            hovertemplate="%{x|%-d %b %Y %H:%M}<br>%{customdata[0]}<br>%{customdata[1]}<extra></extra>"))
    if deadlines is not None and not deadlines.is_empty():
        marks = deadlines.filter(pl.col("due_by").is_not_null())
        for status in marks["status"].unique(maintain_order=True).to_list():
            part = marks.filter(pl.col("status") == status)
            word, colour, symbol = CLOCK_STATUS.get(status, (status, INK, "circle"))
            fig.add_trace(go.Scatter(
                x=part["due_by"].to_list(), y=["Deadlines"] * len(part), mode="markers", name=f"Deadline {word}",
                marker=dict(color=colour, symbol=symbol, size=13, line=dict(width=2, color=colour)),
                customdata=[shown(v) for v in part["label"].to_list()],
                hovertemplate="%{customdata}<br>deadline %{x|%-d %b %Y %H:%M}: " + word + "<extra></extra>"))
        lanes = ["Deadlines"] + lanes
    fig.update_yaxes(categoryorder="array", categoryarray=list(reversed(lanes)))
    times = events["event_at"].drop_nulls().to_list()
    if deadlines is not None and not deadlines.is_empty():
        times += deadlines["due_by"].drop_nulls().to_list()
    short = len(times) > 1 and (max(times) - min(times)).days < 4
    fig.update_xaxes(tickformat="%-d %b %H:%M" if short else "%-d %b %Y")
    return _layout(fig, title, max(height, 55 * len(lanes) + 100), showlegend=True,
                   legend=dict(orientation="h", y=-0.12, x=0))


def sector_position_chart(groups: pl.DataFrame, landlords: pl.DataFrame | None, ours: pl.DataFrame, unit: str,
                          title: str | None = None) -> go.Figure:
    """Where our figures stand among landlords ("How we compare"): a row per published year and group of
    landlords (columns row, label, lower_quartile, median, upper_quartile; row 0 at the top), every
    landlord's published value a grey dot (landlords: row, value), the middle half of landlords a box with
    a line at the median, and our figures (ours: row, label, value, like_for_like) a diamond each:
    filled orange for the same whole year, open blue for a year set beside another year's landlords.
    landlords None: the boxes without the dots (the printed pack). unit: "%" or "per 1,000 homes"."""
    suffix = "%" if unit == "%" else ""
    n = groups.height
    y_of = {r: n - 1 - r for r in groups["row"].to_list()}
    traces, shapes = [], []
    golden = 0.6180339887  # a spread that looks random but is the same every time
    # Grey (PALETTE[7]) at half strength as a translucent colour, not marker opacity: in SVG (the pack)
    # opacity makes each of a thousand dots a transparency group, 20 times the PDF's size and slower to lay out.
    if landlords is not None:
        traces.append(go.Scatter(
            x=landlords["value"].to_list(),
            y=[y_of[r] + ((i * golden) % 1 - 0.5) * 0.5 for i, r in enumerate(landlords["row"].to_list())],
            mode="markers", name="Each landlord", marker=dict(color="rgba(153, 153, 153, 0.5)", size=4),
            hovertemplate="A landlord: %{x:,.1f}" + suffix + "<extra></extra>"))
    for g in groups.iter_rows(named=True):
        if g["median"] is None:
            continue
        y = y_of[g["row"]]
        shapes.append(dict(type="rect", x0=g["lower_quartile"], x1=g["upper_quartile"], y0=y - 0.3, y1=y + 0.3,
                           line=dict(color=PALETTE[0], width=2), fillcolor="rgba(0, 114, 178, 0.12)", layer="below"))
        shapes.append(dict(type="line", x0=g["median"], x1=g["median"], y0=y - 0.3, y1=y + 0.3,
                           line=dict(color=PALETTE[0], width=3)))
    quartiles = groups.filter(pl.col("median").is_not_null())
    traces.append(go.Scatter(
        x=quartiles["median"].to_list(), y=[y_of[r] for r in quartiles["row"].to_list()], mode="markers",
        name="Middle half of landlords, line at the median", marker=dict(symbol="line-ns", size=16, color=PALETTE[0],
                                                                          line=dict(width=3, color=PALETTE[0])),
        customdata=list(zip(quartiles["lower_quartile"].to_list(), quartiles["upper_quartile"].to_list(),
                            strict=True)),
        hovertemplate=(f"Lower quartile %{{customdata[0]:,.1f}}{suffix}, median %{{x:,.1f}}{suffix}, "
                       f"upper quartile %{{customdata[1]:,.1f}}{suffix}<extra></extra>")))
    # The same year's diamonds first, so that an open one on the same value stays visible on top.
    for label in ours.sort("like_for_like", descending=True, maintain_order=True)["label"].unique(
            maintain_order=True).to_list():
        part = ours.filter(pl.col("label") == label)
        same = bool(part["like_for_like"][0])
        traces.append(go.Scatter(
            x=part["value"].to_list(), y=[y_of[r] for r in part["row"].to_list()], mode="markers", name=label,
            marker=dict(symbol="diamond" if same else "diamond-open", size=14 if same else 19,
                        color=PALETTE[1] if same else PALETTE[0],
                        line=dict(width=2, color=INK if same else PALETTE[0])),
            hovertemplate=html.escape(label) + ": %{x:,.1f}" + suffix + "<extra></extra>"))
    fig = go.Figure(data=traces, layout=dict(
        shapes=shapes,
        yaxis=dict(tickvals=list(y_of.values()), ticktext=groups["label"].to_list(), range=[-0.6, n - 0.4],
                   showgrid=False),
        xaxis=dict(ticksuffix=suffix, rangemode="tozero", showgrid=True, gridcolor="#e4e7eb",
                   title=dict(text=None if suffix else unit, font=dict(size=11)))))
    return _layout(fig, title, 110 + 46 * n, showlegend=True,
                   legend=dict(orientation="h", y=-0.25 if suffix else -0.35, x=0))


def sparkline_svg(values: list[float | None], colour: str = PALETTE[0], width: int = 240, height: int = 48,
                  label: str = "trend over the last weeks", point_labels: list[str] | None = None,
                  target: float | None = None) -> str:
    """A small line of the weekly figures as inline SVG: light enough for a page of tiles (a Plotly
    chart per tile would make the browser's work the slowest part of the page), and fit for HTML.
    Gaps (weeks with no figure) break the line; the latest week is marked with a dot. With
    `point_labels` each week shows its figure on hover (an SVG title); `target` draws a dashed line."""
    pad = 4
    known = [v for v in values if v is not None]
    if not known or len(values) < 2:
        return (f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="no figures to draw">'
                "</svg>")
    lo, hi = min(known + ([target] if target is not None else [])), max(known + ([target] if target is not None
                                                                              else []))
    if hi - lo < 1e-9:
        lo, hi = lo - 1, hi + 1
    step = (width - 2 * pad) / (len(values) - 1)

    def y_of(v: float) -> float:
        return height - pad - (v - lo) / (hi - lo) * (height - 2 * pad)

    def point(i: int, v: float) -> tuple[float, float]:
        return pad + i * step, y_of(v)

    runs, run = [], []
    for i, v in enumerate(values):
        if v is None:
            if run:
                runs.append(run)
            run = []
        else:
            run.append(point(i, v))
    if run:
        runs.append(run)
    lines = "".join(
        f'<polyline fill="none" stroke="{colour}" stroke-width="2" stroke-linejoin="round" stroke-linecap="round" '
        f'points="{" ".join(f"{x:.1f},{y:.1f}" for x, y in r)}"/>' if len(r) > 1 else
        f'<circle cx="{r[0][0]:.1f}" cy="{r[0][1]:.1f}" r="1.8" fill="{colour}"/>'
        for r in runs)
    goal = ""
    if target is not None:
        goal = (f'<line x1="{pad}" x2="{width - pad}" y1="{y_of(target):.1f}" y2="{y_of(target):.1f}" '
                f'stroke="{GREY}" stroke-width="1" stroke-dasharray="4 3"><title>Target</title></line>')
    dot = ""
    if values[-1] is not None:
        x, y = point(len(values) - 1, values[-1])
        dot = f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>'
    hover = ""
    if point_labels:  # a wide invisible target per week, so the figure shows wherever the pointer is
        hover = "".join(
            f'<rect x="{pad + i * step - step / 2:.1f}" y="0" width="{step:.1f}" height="{height}" '
            f'fill="transparent"><title>{html.escape(text)}</title></rect>'
            for i, text in enumerate(point_labels))
    words = html.escape(label, quote=True)
    return (f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="{words}" '
            f'xmlns="http://www.w3.org/2000/svg">{goal}{lines}{dot}{hover}</svg>')
