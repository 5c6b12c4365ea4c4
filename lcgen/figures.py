"""Length x depth grid figures (PNG): coverage for cards, accuracy for ``lcgen score``.

One panel per config or variant, lengths across, depths down, each cell annotated. Rendered with the Agg canvas
(no display, no pyplot state) and saved without a Software tag, so the same numbers give the same bytes.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping

from .errors import missing_dependency

Cells = Mapping[tuple[int, float], float]  # (length in tokens, 0 = none; depth in percent) -> value


def length_depth_png(
    panels: Mapping[str, Cells],
    *,
    title: str,
    panel_title: Callable[[str, Cells], str],
    cmap: str,
    vmin: float,
    vmax: float,
    colorbar: str,
    cell_text: Callable[[float], str],
    x_label: str = "context length (tokens)",
    y_label: str = "depth",
    integer_colorbar: bool = False,
) -> bytes:
    """Render one heatmap panel per entry of ``panels``."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.ticker import MaxNLocator
    except ImportError:
        raise missing_dependency("figures", "matplotlib") from None
    import numpy as np

    from .lengths import length_label

    cols = min(3, len(panels))
    rows = -(-len(panels) // cols)
    fig = Figure(figsize=(4.4 * cols + 1.2, 3.4 * rows + 0.7), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(rows, cols, squeeze=False)
    image = None
    for k, (ax, (name, cells)) in enumerate(zip(axes.flat, panels.items())):
        lengths = sorted({n for n, _ in cells})
        depths = sorted({d for _, d in cells})
        grid = np.full((len(depths), len(lengths)), np.nan)
        for (n, d), v in cells.items():
            grid[depths.index(d), lengths.index(n)] = v
        image = ax.imshow(grid, cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto")
        ax.set_xticks(range(len(lengths)), [length_label(n) if n else "none" for n in lengths])
        ax.set_yticks(range(len(depths)), [f"{d:g}%" for d in depths])
        if k + cols >= len(panels):
            ax.set_xlabel(x_label)
        if k % cols == 0:
            ax.set_ylabel(y_label)
        ax.set_title(panel_title(name, cells), fontsize=10)
        for i in range(len(depths)):
            for j in range(len(lengths)):
                if not np.isnan(grid[i, j]):
                    dark = cmap == "Blues" and grid[i, j] > (vmin + vmax) / 2
                    ax.text(j, i, cell_text(grid[i, j]), ha="center", va="center", fontsize=8,
                            color="white" if dark else "black")
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    bar = fig.colorbar(image, ax=axes, shrink=0.8, label=colorbar)
    if integer_colorbar:
        bar.locator = MaxNLocator(integer=True)
        bar.update_ticks()
    fig.suptitle(title)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, metadata={"Software": None})
    return buf.getvalue()
