"""The lift section: a program with no control group is named, not plotted or totalled."""

from __future__ import annotations

from activations.dashboards import charts


def test_no_control_group_program_is_left_out_of_incremental_and_named(
    built_warehouse, rendered_dashboard, page
):
    rows = built_warehouse.query(
        "select program, verdict, incremental_revenue from metrics.program_lift"
    )
    verdicts = {program: verdict for program, verdict, _ in rows}
    assert verdicts["newsletter"] == "no control group"
    compared = [
        float(incremental)
        for _, verdict, incremental in rows
        if verdict in ("positive", "negative", "no difference yet")
    ]
    shown = float(page.ids["kpi-incremental_revenue"]["data-value"])
    assert abs(shown - sum(compared)) < 0.01
    html = rendered_dashboard.read_text()
    lift_section = html[html.index('id="lift"') : html.index('id="campaigns"')]
    assert lift_section.count("no control group") >= 2  # chart note and table cell
    assert page.tables["lift-table"]["newsletter"]["incremental_revenue"] == ""


def test_interval_chart_draws_notes_instead_of_points():
    svg = charts.intervals(
        [("Cart rescue", 2.0, 1.0, 3.0), ("Newsletter", None, None, None)],
        label="lift",
        fmt=str,
        notes=[("Newsletter", "no control group")],
    )
    assert svg.count("<circle") == 1 and "no control group" in svg
    only_notes = charts.intervals([], label="lift", fmt=str, notes=[("News", "no control group")])
    assert "no control group" in only_notes and "<circle" not in only_notes
