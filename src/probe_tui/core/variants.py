"""Prompt variants: the same item asked another way, to see how much an answer depends on the asking.

Three factors, each on or off for a run (`--variants order,anchors,frames`):
- order: the options' meanings reversed (1 = the last anchor), the answer mirrored back onto the
  real scale (as the order check `o` does);
- anchors: how the options are labelled: "both" (1 = Strongly disagree, the standard), "numbered"
  (numbers, only the two ends described) or "verbal" (the description first, its number after);
- frames: the wording of the instruction: 1 (the standard), 2 or 3 (prompts.yaml: instruction_2, _3).

A variant is written as one canonical string, its non-standard parts in this order:
"order=reversed;anchors=verbal;frame=2"; the standard asking is "". Each variant is its own
condition (Condition.variant), so one prompt has one condition key.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from .errors import ProbeError

ORDERS = ("standard", "reversed")
ANCHOR_STYLES = ("both", "numbered", "verbal")
FRAMES = (1, 2, 3)
FACTORS = ("order", "anchors", "frames")  # as named on the command line
STANDARD = ""


@dataclass(frozen=True)
class Variant:
    order: str = "standard"
    anchors: str = "both"
    frame: int = 1

    @property
    def reversed(self) -> bool:
        return self.order == "reversed"

    def __str__(self) -> str:
        parts = []
        if self.order != "standard":
            parts.append(f"order={self.order}")
        if self.anchors != "both":
            parts.append(f"anchors={self.anchors}")
        if self.frame != 1:
            parts.append(f"frame={self.frame}")
        return ";".join(parts)

    def without_order(self) -> "Variant":
        return Variant(anchors=self.anchors, frame=self.frame)


def parse_variant(text: str) -> Variant:
    """A canonical variant string ("" = standard) -> Variant; anything else is refused in one line."""
    values: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in str(text or "").split(";"))):
        name, _, value = part.partition("=")
        name, value = name.strip(), value.strip()
        if name not in ("order", "anchors", "frame") or name in values:
            raise ProbeError(f"unknown variant part {part!r}; expected order=, anchors= or frame= (e.g. order=reversed;frame=2)")
        values[name] = value
    order, anchors, frame = values.get("order", "standard"), values.get("anchors", "both"), values.get("frame", "1")
    if order not in ORDERS:
        raise ProbeError(f"unknown option order {order!r}; expected one of: {', '.join(ORDERS)}")
    if anchors not in ANCHOR_STYLES:
        raise ProbeError(f"unknown anchor style {anchors!r}; expected one of: {', '.join(ANCHOR_STYLES)}")
    if frame not in {str(f) for f in FRAMES}:
        raise ProbeError(f"unknown question frame {frame!r}; expected one of: {', '.join(map(str, FRAMES))}")
    return Variant(order, anchors, int(frame))


def parse_factors(spec: str) -> tuple[str, ...]:
    """"order,anchors,frames" -> the factors switched on, in FACTORS order ("frame" is taken for "frames")."""
    names = [n.strip().lower() for n in str(spec).split(",") if n.strip()]
    names = ["frames" if n == "frame" else n for n in names]
    unknown = [n for n in names if n not in FACTORS]
    if unknown or not names:
        raise ProbeError(f"unknown variant factor(s) {', '.join(map(repr, unknown)) or repr(spec)}; expected any of: {', '.join(FACTORS)}")
    return tuple(f for f in FACTORS if f in names)


def variants_for(factors) -> list[str]:
    """Every combination of the factors switched on (a full factorial), the standard asking first."""
    orders = ORDERS if "order" in factors else ORDERS[:1]
    anchors = ANCHOR_STYLES if "anchors" in factors else ANCHOR_STYLES[:1]
    frames = FRAMES if "frames" in factors else FRAMES[:1]
    return [str(Variant(o, a, f)) for o, a, f in itertools.product(orders, anchors, frames)]


def variant_columns(variant: str) -> dict:
    """A row's variant columns: the canonical string and its three parts."""
    v = parse_variant(variant)
    return {"variant": str(v), "order": v.order, "anchors": v.anchors, "frame": v.frame}


def describe(variant: str) -> str:
    """A variant in a few words, for the screen: "standard", or its parts."""
    return str(parse_variant(variant)).replace(";", " · ") or "standard"
