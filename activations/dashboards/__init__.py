"""The measurement dashboard: the metric marts rendered into one self-contained
HTML page (charts drawn on the server as inline SVG, no network needed)."""

from activations.dashboards.render import render_dashboard, render_html

__all__ = ["render_dashboard", "render_html"]
