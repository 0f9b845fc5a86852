"""The chart: each contender's throughput ratio to its baseline, as an SVG of bars."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .report import Summary


def render_chart(summaries: Sequence[Summary]) -> str:
    """Draw each contender's ratio to its baseline as a horizontal bar (SVG).

    The line at 1.0 is the baseline; a target, where there is one, is a tick on the
    bar's row, and the bar is green when the target is met, red when it is missed.

    Each row's label sits on its own line above the bar, so the chart stays narrow
    enough to be shown near its natural size in the docs' content column (about
    700 px): its text then reads at about the size of the page's own small print.
    The background is opaque, for the docs' dark scheme.
    """
    rows = [summary for summary in summaries if not summary.is_baseline]
    labels = [escape(f"{s.scenario.title}: {s.contender.label}") for s in rows]
    font, pad, value_room = 14, 12, 48  # value_room: for the number after the longest bar
    # Wide enough for the longest label (sans-serif averages well under 0.55 em a character).
    longest = max((len(f"{s.scenario.title}: {s.contender.label}") for s in rows), default=0)
    width = max(560, round(longest * font * 0.55) + 2 * pad)
    scale_max = max([1.0, *(s.ratio for s in rows), *(s.target or 0 for s in rows)]) * 1.05
    bar_width = width - 2 * pad - value_room
    label_height, bar_height, gap = font + 6, 18, 12
    row_height = label_height + bar_height + gap
    top = pad + font + 14  # below the title

    def x(ratio: float) -> float:
        return pad + bar_width * ratio / scale_max

    height = top + row_height * len(rows) + font + 8
    parts = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" style="background-color: #ffffff" '
            f'font-family="Helvetica, Arial, sans-serif" font-size="{font}" fill="#1f1f1f">'
        ),
        (
            f'<text x="{pad}" y="{pad + font}" font-weight="bold">Throughput relative to the '
            "baseline of each scenario (requests/s)</text>"
        ),
    ]
    for index, (summary, label) in enumerate(zip(rows, labels, strict=True)):
        y = top + index * row_height  # the label's line, then the bar
        bar_y = y + label_height
        color = "#7a8ca3" if summary.target is None else "#2e8b57" if summary.passed else "#c0392b"
        parts += [
            f'<text x="{pad}" y="{y + font}">{label}</text>',
            (
                f'<rect x="{pad}" y="{bar_y}" width="{x(summary.ratio) - pad:.1f}" '
                f'height="{bar_height}" fill="{color}"/>'
            ),
            (  # past the bar, the baseline and the target tick, so that none crosses it
                f'<text x="{x(max(summary.ratio, 1.0, summary.target or 0)) + 6:.1f}" '
                f'y="{bar_y + bar_height - 4}" font-weight="bold">{summary.ratio:.2f}</text>'
            ),
        ]
        parts.append(  # the baseline, across the bar only: the label stays clear
            f'<line x1="{x(1.0):.1f}" x2="{x(1.0):.1f}" y1="{bar_y - 3}" '
            f'y2="{bar_y + bar_height + 3}" stroke="black" stroke-dasharray="3 2"/>'
        )
        if summary.target is not None:
            parts.append(
                f'<line x1="{x(summary.target):.1f}" x2="{x(summary.target):.1f}" '
                f'y1="{bar_y - 3}" y2="{bar_y + bar_height + 3}" stroke="black" stroke-width="3"/>'
            )
    bottom = top + row_height * len(rows) - gap
    parts += [
        (
            f'<text x="{x(1.0):.1f}" y="{bottom + 4 + font}" text-anchor="middle">'
            "1.0 = baseline</text>"
        ),
        "</svg>",
    ]
    return "\n".join(parts) + "\n"
