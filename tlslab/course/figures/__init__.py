"""Figures for the tlslab notebooks: plain functions returning matplotlib Figures, drawn from tlslab data.

Importing this package inside Jupyter switches inline figures to "retina" PNGs (twice the pixels,
shown at the same size), so labels stay sharp on high-resolution screens.
"""


def _sharp_inline_figures() -> None:
    try:
        from IPython.core.getipython import get_ipython
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:  # not in Jupyter, or no inline backend: nothing to set
        return
    if get_ipython() is not None:
        set_matplotlib_formats("retina")


_sharp_inline_figures()
