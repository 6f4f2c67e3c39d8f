"""Charts drawn on the server as inline SVG: nothing is loaded from the internet, nothing runs in the
browser. Every number is formatted here and every label escaped, so the markup is safe to inline."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from evaluations.models import Direction

MET, MISSED, NEUTRAL = "#2e7d32", "#c62828", "#1565c0"


@dataclass(frozen=True)
class ChartPoint:
    label: str
    value: Decimal | None
    met: bool | None = None


def _fmt(value: Decimal | float) -> str:
    return f"{float(value):.2f}".rstrip("0").rstrip(".")


def trend_svg(
    points: list[ChartPoint],
    *,
    target: Decimal | None = None,
    direction: str = Direction.HIGHER,
    title: str = "",
    width: int = 360,
    height: int = 140,
) -> SafeString:
    """A line over the periods (gaps where a period has no value), the target as a dashed line, each
    point green when its target was met and red when missed."""
    left, right, top, bottom = 40, 8, 10, 24
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [p.value for p in points if p.value is not None]
    scale = [*values, *([target] if target is not None else [])]
    low, high = (min(scale), max(scale)) if scale else (Decimal(0), Decimal(1))
    if low == high:
        low, high = low - 1, high + 1
    pad = (high - low) * Decimal("0.1")
    low, high = low - pad, high + pad
    if values and min(values) >= 0 and low < 0:
        low = Decimal(0)

    def x(i: int) -> float:
        return left + (plot_w * i / max(1, len(points) - 1) if len(points) > 1 else plot_w / 2)

    def y(v: Decimal) -> float:
        return top + plot_h * float((high - v) / (high - low))

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="kpi-trend" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="#fafafa" stroke="#ddd"/>',
    ]
    for v in (low, high):
        parts.append(
            f'<text x="{left - 4}" y="{y(v) + 4:.1f}" text-anchor="end" font-size="10" fill="#666">{_fmt(v)}</text>'
        )
    if target is not None:
        ty = y(target)
        better = "≥" if direction == Direction.HIGHER else "≤"
        parts.append(
            f'<line x1="{left}" y1="{ty:.1f}" x2="{left + plot_w}" y2="{ty:.1f}" stroke="#999" '
            f'stroke-dasharray="4 3"><title>{escape(f"target {better} {_fmt(target)}")}</title></line>'
        )
    segment: list[str] = []
    segments = []
    for i, p in enumerate(points):
        if p.value is None:
            if segment:
                segments.append(segment)
            segment = []
            continue
        segment.append(f"{x(i):.1f},{y(p.value):.1f}")
    if segment:
        segments.append(segment)
    for seg in segments:
        if len(seg) > 1:
            parts.append(
                f'<polyline fill="none" stroke="{NEUTRAL}" stroke-width="2" points="{" ".join(seg)}"/>'
            )
    for i, p in enumerate(points):
        if p.value is None:
            continue
        colour = NEUTRAL if p.met is None else (MET if p.met else MISSED)
        parts.append(
            f'<circle cx="{x(i):.1f}" cy="{y(p.value):.1f}" r="3.5" fill="{colour}">'
            f"<title>{escape(p.label)}: {_fmt(p.value)}</title></circle>"
        )
    # At most five labels, counted back from the last one so that they are evenly spaced; the last
    # ends at the plot's edge instead of running past the drawing.
    step = max(1, -(-len(points) // 5))
    last = len(points) - 1
    for i, p in enumerate(points):
        if (last - i) % step == 0:
            anchor = "end" if i == last and len(points) > 1 else "middle"
            parts.append(
                f'<text x="{x(i):.1f}" y="{height - 6}" text-anchor="{anchor}" font-size="10" fill="#666">'
                f"{escape(p.label)}</text>"
            )
    if not values:
        parts.append(
            f'<text x="{left + plot_w / 2:.1f}" y="{top + plot_h / 2:.1f}" text-anchor="middle" '
            f'font-size="11" fill="#999">—</text>'
        )
    parts.append("</svg>")
    # Built from our own numbers and escaped labels only.
    return mark_safe("".join(parts))  # noqa: S308


HEAT_STEPS = 5


def heat(value: float | Decimal | None, maximum: float | Decimal | None, *, alarming: bool = True) -> str:
    """The CSS classes of a heat-map cell: a step 0–5 of its share of the maximum, in red where more
    is worse (time to accept, bounce rate) and in a neutral blue for plain counts. Classes, not an
    inline style: the production CSP allows no style attribute (evaluations/admin.css)."""
    scale = "heat-alarm" if alarming else "heat-count"
    if value is None or not maximum:
        return f"{scale} heat-0"
    share = max(0.0, min(1.0, float(value) / float(maximum)))
    return f"{scale} heat-{max(1, round(share * HEAT_STEPS))}"
