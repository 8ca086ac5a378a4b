"""Matplotlib without pyplot: figures drawn on the Agg canvas and written atomically.

Using ``matplotlib.figure.Figure`` directly (not ``pyplot``) needs no display, never changes the
process-wide backend, and keeps no global figure registry.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from ..io import atomic_write


def new_figure(ncols: int = 1, width_per_plot: float = 4.5, height: float = 3.6, sharey: bool = False,
               max_cols: int | None = None) -> tuple[Any, list[Any]]:
    """A figure of ``ncols`` panels in one row, or in rows of ``max_cols`` (panels left over are hidden);
    the axes in reading order."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    n = max(1, ncols)
    cols = min(n, max_cols) if max_cols else n
    rows = -(-n // cols)
    fig = Figure(figsize=(cols * width_per_plot, rows * height), layout="constrained")
    FigureCanvasAgg(fig)
    axes = list(fig.subplots(rows, cols, sharey=sharey, squeeze=False).ravel())
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes[:n]


def save_png(fig: Any, path: str | Path, dpi: int = 120) -> Path:
    """Render ``fig`` to PNG and write it atomically."""
    path = Path(path)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    with atomic_write(path, "wb", encoding=None) as fh:
        fh.write(buf.getvalue())
    return path
