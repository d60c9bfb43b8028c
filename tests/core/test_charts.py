"""Server-side SVG charts (dashboard and PDF reports): well-formed SVG, bars in proportion to the
figures, figures printed as text, every label escaped."""

import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from django.utils.safestring import SafeString

from unionfunds.core.charts import PALETTE, Series, bar_chart, column_chart, progress_bar

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    assert isinstance(svg, SafeString)
    root = ET.fromstring(svg)  # noqa: S314 - our own output
    assert root.tag == f"{SVG}svg"
    return root


def rects(root) -> list[ET.Element]:
    return root.findall(f"{SVG}rect")


def texts(root) -> list[str]:
    return [t.text for t in root.findall(f"{SVG}text")]


CITIES = ["杭州市", "宁波市", "温州市"]
ALLOCATED = [Decimal("2400000.00"), Decimal("1200000.00"), Decimal("600000.00")]
SPENT = [Decimal("1800000.00"), Decimal("300000.00"), Decimal("0.00")]


def allocated_vs_spent(**kwargs):
    return bar_chart(
        CITIES,
        [Series("下拨", ALLOCATED), Series("已支出", SPENT, color=PALETTE[2])],
        title="各地下拨与支出（元）",
        **kwargs,
    )


def test_bar_chart_draws_one_bar_per_city_and_series_in_proportion():
    root = parse(allocated_vs_spent(width=720, label_width=110))
    bars = rects(root)[2:]  # after the two legend swatches
    assert len(bars) == len(CITIES) * 2
    widths = [float(r.get("width")) for r in bars]
    chart_width = 720 - 110 - 90
    # Bars of a city follow each other: allocated, spent; the peak fills the chart.
    assert widths[0] == pytest.approx(chart_width, abs=0.1)
    assert widths[2] == pytest.approx(chart_width / 2, abs=0.1)
    assert widths[1] == pytest.approx(chart_width * 0.75, abs=0.1)
    assert widths[5] == 0
    assert {r.get("fill") for r in bars[1::2]} == {PALETTE[2]}
    assert all(float(r.get("x")) == 110 for r in bars)


def test_bar_chart_prints_titles_legends_and_figures():
    labels = texts(parse(allocated_vs_spent()))
    assert "各地下拨与支出（元）" in labels
    assert {"下拨", "已支出", *CITIES} <= set(labels)
    assert "240.0万" in labels  # 2,400,000.00 in units of 10,000
    assert "0.00" in labels


def test_bar_chart_grows_with_the_number_of_categories():
    short = parse(bar_chart(["a"], [Series("s", [1])]))
    tall = parse(bar_chart(list("abcdefghijk"), [Series("s", list(range(11)))]))
    assert int(tall.get("height")) > int(short.get("height"))
    assert tall.get("viewBox") == f"0 0 {tall.get('width')} {tall.get('height')}"


def test_bar_chart_of_nothing_or_zeros_does_not_divide_by_zero():
    parse(bar_chart([], [Series("下拨", [])], title="空"))
    root = parse(bar_chart(["杭州市"], [Series("下拨", [Decimal("0.00")])]))
    assert [float(r.get("width")) for r in rects(root)[1:]] == [0]


def test_bar_chart_escapes_every_label():
    evil = '<script>alert("x")</script>'
    svg = bar_chart([evil], [Series(evil, [Decimal("1.00")])], title=evil)
    assert "<script>" not in svg
    root = parse(svg)
    assert texts(root).count(evil) == 3
    assert root.get("aria-label") == evil


def test_column_chart_heights_in_proportion_with_counts_on_top():
    bands = ["0–20%", "20–40%", "40–60%", "60–80%", "80–100%"]
    root = parse(column_chart(bands, [2, 4, 0, 1, 8], title="资金使用率分布（工会数）", width=500, height=220))
    columns = rects(root)
    heights = [float(c.get("height")) for c in columns]
    assert heights[4] == max(heights)
    assert heights[1] == pytest.approx(heights[4] / 2, abs=0.1)
    assert heights[2] == 0
    # Columns share one baseline.
    assert len({round(float(c.get("y")) + float(c.get("height")), 1) for c in columns}) == 1
    labels = texts(root)
    assert set(bands) <= set(labels)
    assert {"2", "4", "0", "1", "8"} <= set(labels)


def test_column_chart_refuses_labels_and_values_of_different_lengths():
    with pytest.raises(ValueError):
        column_chart(["a", "b"], [1])


def test_column_chart_escapes_labels():
    svg = column_chart(["<b>&</b>"], [1], title='"><img src=x>')
    assert "<b>" not in svg and "<img" not in svg
    assert "<b>&</b>" in texts(parse(svg))


@pytest.mark.parametrize(
    ("fraction", "filled", "label"),
    [
        (Decimal("0.25"), 60.0, "25.0%"),
        (Decimal("0"), 0.0, "0.0%"),
        (Decimal("1.0000"), 240.0, "100.0%"),
        (Decimal("1.5"), 240.0, "100.0%"),  # never overflows the track
        (Decimal("-0.2"), 0.0, "0.0%"),
    ],
)
def test_progress_bar_fills_its_share_of_the_track(fraction, filled, label):
    root = parse(progress_bar(fraction, width=240))
    track, bar = rects(root)
    assert float(track.get("width")) == 240
    assert float(bar.get("width")) == filled
    assert root.get("aria-label") == label
