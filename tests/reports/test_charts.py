"""Chart geometry and CSV safety, as pure functions (no app needed)."""

from __future__ import annotations

import csv
import io

from kit.reports.charts import HEIGHT
from kit.reports.charts import interval_bars
from kit.reports.charts import line_chart
from kit.reports.charts import sparkline
from kit.reports.export import csv_lines
from kit.reports.export import neutralise


def points(chart, n=0):
    return [tuple(map(float, p.split(","))) for p in chart.lines[n].points.split()]


def test_higher_values_are_drawn_higher_and_fit_the_frame():
    chart = line_chart("Signups", ["d1", "d2", "d3"], {"a": [1, 5, 3], "b": [2, 2, 2]})
    ys = [y for _, y in points(chart)]
    assert ys[1] < ys[2] < ys[0]  # SVG y grows downwards
    for line in range(2):
        for x, y in points(chart, line):
            assert chart.left <= x <= chart.right and chart.top <= y <= chart.bottom
    assert chart.y_ticks[-1].label == "5"  # the axis tops out at a round number


def test_missing_values_leave_a_gap_and_no_data_draws_nothing():
    chart = line_chart("Rate", ["d1", "d2", "d3"], {"a": [None, 0.1, 0.2]})
    assert len(points(chart)) == 2
    empty = line_chart("Rate", [], {})
    assert empty.lines == [] and "no data" in empty.description
    flat = line_chart("Zero", ["d1", "d2"], {"a": [0, 0]})
    assert all(y == HEIGHT - 28 for _, y in points(flat))


def test_chart_has_a_text_alternative_with_the_last_values():
    chart = line_chart(
        "Cumulative conversion", ["d1", "d2"], {"a": [0.1, 0.12]}, lambda v: f"{v:.0%}"
    )
    assert "a: 12% at the end" in chart.description


def test_cells_that_start_a_formula_are_neutralised():
    for dangerous in ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1"]:
        assert neutralise(dangerous) == "'" + dangerous
    assert neutralise("ada@example.com") == "ada@example.com"
    assert neutralise(-3) == "-3"  # a real number stays a number
    assert neutralise(None) == ""


def test_csv_lines_stream_a_readable_file():
    text = "".join(csv_lines(["name", "n"], iter([("=x", 1), ('a "quoted", name', 2)])))
    assert list(csv.reader(io.StringIO(text))) == [
        ["name", "n"],
        ["'=x", "1"],
        ['a "quoted", name', "2"],
    ]


def test_count_axes_never_show_a_fraction_of_a_visitor():
    one = line_chart("Signups", ["d1", "d2"], {"a": [0, 1]}, whole=True)
    assert [tick.label for tick in one.y_ticks] == ["0", "1"]
    seven = line_chart("Signups", ["d1", "d2"], {"a": [0, 7]}, whole=True)
    assert [tick.label for tick in seven.y_ticks] == ["0", "2", "4", "6", "8"]
    rates = line_chart("Rate", ["d1"], {"a": [0.1234]}, lambda v: f"{v:.0%}")
    assert [tick.label for tick in rates.y_ticks] == ["0%", "5%", "10%", "15%"]


def test_sparkline_spans_the_width_and_scales_to_its_largest_value():
    points = [tuple(map(float, p.split(","))) for p in sparkline([0, 5, 10]).split()]
    assert points == [(0.0, 26.0), (60.0, 14.0), (120.0, 2.0)]
    flat = sparkline([0] * 30).split()
    assert len(flat) == 30 and all(p.endswith(",26.0") for p in flat)  # no division by zero


def test_interval_bars_share_one_axis_and_keep_no_data_empty():
    bars = interval_bars([(0.05, 0.10, 0.20), None, (0.10, 0.15, 0.20)])
    assert bars[1] is None
    assert (bars[0].low, bars[0].width, bars[0].rate) == (40.0, 120.0, 80.0)
    assert bars[2].low + bars[2].width == 160.0  # the highest end reaches the right edge
    assert interval_bars([(0.0, 0.0, 0.0)])[0].width == 1.0  # an empty rate still shows
