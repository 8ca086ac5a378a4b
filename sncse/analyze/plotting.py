"""Matplotlib without pyplot: figures drawn on the Agg canvas and written atomically.

Using ``matplotlib.figure.Figure`` directly (not ``pyplot``) needs no display, never changes the
process-wide backend, and keeps no global figure registry.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from ..io import atomic_write


def new_figure(ncols: int = 1, width_per_plot: float = 4.5, height: float = 3.6, sharey: bool = False
               ) -> tuple[Any, list[Any]]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(max(1, ncols) * width_per_plot, height), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, max(1, ncols), sharey=sharey, squeeze=False)[0]
    return fig, list(axes)


def save_png(fig: Any, path: str | Path, dpi: int = 120) -> Path:
    """Render ``fig`` to PNG and write it atomically."""
    path = Path(path)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    with atomic_write(path, "wb", encoding=None) as fh:
        fh.write(buf.getvalue())
    return path
