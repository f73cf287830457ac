"""The server-rendered SVG: one bar per total, a mark per threshold or boundary, text escaped."""

from results.charts import distribution_svg


def test_distribution_has_a_bar_per_total_and_a_mark_per_boundary():
    svg = str(distribution_svg([0, 2, 5, 1], marks=[(1, "E"), (2, "<C>")], title="Fördelning"))
    assert svg.startswith("<svg") and 'role="img"' in svg and "<title>Fördelning</title>" in svg
    assert svg.count('class="chart__bar"') == 4 and "<title>2: 5</title>" in svg
    assert svg.count('class="chart__mark"') == 2
    assert "&lt;C&gt;" in svg and "<C>" not in svg


def test_empty_distribution_draws_nothing():
    assert str(distribution_svg([], marks=[], title="x")) == ""
