"""Two JSON documents compared number by number: how far apart their numbers are, and
where their structure differs (a key one lacks, a string or a list length that differs).

    report = compare(committed, recomputed)
    report.max_abs, report.numbers, report.structural[:3]

Why not ``numpy.testing`` or ``deepdiff``: the first wants arrays of one shape, not nested
mappings; the second is one more dependency for twenty lines.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass
class Comparison:
    numbers: int = 0  # numbers compared
    max_abs: float = 0.0  # the largest |a - b| over them (inf where one is NaN and the other not)
    worst: str = ""  # where it is ('' when every number is equal)
    structural: list[str] = field(default_factory=list)  # 'path: why' for every other difference

    def within(self, tolerance: float) -> bool:
        return not self.structural and self.max_abs <= tolerance


def _number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def compare(a, b, ignore=()) -> Comparison:
    """Every number of a against b's at the same path; keys named in ``ignore`` (at any
    depth) are skipped."""
    out = Comparison()
    _walk(a, b, "", out, frozenset(ignore))
    return out


def _walk(a, b, path: str, out: Comparison, ignore) -> None:
    if _number(a) and _number(b):
        out.numbers += 1
        if math.isnan(a) and math.isnan(b):
            return
        diff = abs(a - b) if not (math.isnan(a) or math.isnan(b)) else math.inf
        if diff > out.max_abs:
            out.max_abs, out.worst = diff, path or "."
        return
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            if key in ignore:
                continue
            where = f"{path}.{key}" if path else str(key)
            if key not in a or key not in b:
                out.structural.append(f"{where}: only in the {'second' if key not in a else 'first'}")
            else:
                _walk(a[key], b[key], where, out, ignore)
        return
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            out.structural.append(f"{path}: {len(a)} items against {len(b)}")
            return
        for i, (x, y) in enumerate(zip(a, b)):
            _walk(x, y, f"{path}[{i}]", out, ignore)
        return
    if a != b:
        out.structural.append(f"{path or '.'}: {a!r:.40} against {b!r:.40}")
