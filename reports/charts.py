"""Charts for the PDF documents, drawn by matplotlib as SVG (vector graphics WeasyPrint embeds).

Each function takes plain labels and numbers and returns an SVG document as text; the colours are
the product's palette, the text is whatever the caller translated.
"""

import base64
import io
import threading
from collections.abc import Sequence

import matplotlib

matplotlib.use("svg")

import matplotlib.pyplot as plt
from matplotlib.ticker import MaxNLocator

PALETTE = ["#1f5f8b", "#f0a202", "#3a9d5d", "#c2412d", "#7b5ea7", "#5c6b73", "#2aa6a1"]
# pyplot's state is per process: one figure at a time.
_LOCK = threading.Lock()

matplotlib.rcParams.update(
    {
        "font.family": "DejaVu Sans",
        "font.size": 8,
        "svg.fonttype": "none",  # text stays text: selectable, searchable in the PDF
        "svg.hashsalt": "comadvisor",  # stable ids: the same data gives the same SVG
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.edgecolor": "#9aa5ad",
        "axes.grid": True,
        "axes.grid.axis": "y",
        "grid.color": "#e3e7ea",
        "legend.frameon": False,
    }
)


def _svg(figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    plt.close(figure)
    return buffer.getvalue()


def bars(
    labels: Sequence[str],
    series: dict[str, Sequence[float]],
    *,
    stacked: bool = False,
    title: str = "",
    size: tuple[float, float] = (6.5, 2.6),
) -> str:
    """Grouped (or stacked) bars: one group per label, one colour per series."""
    with _LOCK:
        figure, axes = plt.subplots(figsize=size, layout="constrained")
        count = max(1, len(series))
        positions = list(range(len(labels)))
        width = 0.8 if stacked else 0.8 / count
        bottoms = [0.0] * len(labels)
        for index, (name, values) in enumerate(series.items()):
            values = [float(value or 0) for value in values]
            if stacked:
                axes.bar(positions, values, width, bottom=bottoms, label=name,
                         color=PALETTE[index % len(PALETTE)])  # fmt: skip
                bottoms = [base + value for base, value in zip(bottoms, values, strict=True)]
            else:
                offset = (index - (count - 1) / 2) * width
                axes.bar([p + offset for p in positions], values, width, label=name,
                         color=PALETTE[index % len(PALETTE)])  # fmt: skip
        axes.set_xticks(positions, labels)
        if all(float(value or 0).is_integer() for values in series.values() for value in values):
            # Counts: whole ticks only.
            axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        if title:
            axes.set_title(title, loc="left", fontsize=9)
        if len(series) > 1:
            axes.legend(loc="upper left", bbox_to_anchor=(1, 1))
        return _svg(figure)


def lines(
    labels: Sequence[str],
    series: dict[str, Sequence[float | None]],
    *,
    title: str = "",
    size: tuple[float, float] = (6.5, 2.4),
) -> str:
    """One line per series over the labels; a missing value leaves a gap."""
    with _LOCK:
        figure, axes = plt.subplots(figsize=size, layout="constrained")
        positions = list(range(len(labels)))
        for index, (name, values) in enumerate(series.items()):
            points = [float("nan") if value is None else float(value) for value in values]
            axes.plot(positions, points, marker="o", markersize=3, linewidth=1.6, label=name,
                      color=PALETTE[index % len(PALETTE)])  # fmt: skip
        step = max(1, len(labels) // 12)
        axes.set_xticks(positions[::step], list(labels)[::step])
        if title:
            axes.set_title(title, loc="left", fontsize=9)
        if len(series) > 1:
            axes.legend(loc="upper left", bbox_to_anchor=(1, 1))
        return _svg(figure)


def data_uri(svg: str) -> str:
    """The chart as an <img src> value: WeasyPrint draws it as a vector image."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
