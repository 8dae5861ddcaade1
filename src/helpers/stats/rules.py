"""Verdict rules v2: every claim is a list of parts, and every part can hold, fail or stay open.

Rules v1 (helpers.stats.verdicts) were fixed after seed 0's paper-profile results and before
seeds 1-4. Their trend rule could not say "no": a flat step stayed "not resolved" for
ever. Rules v2 were fixed after seeds 0-4 and before seeds 5-14, and change three things:

- **A margin for every measure.** A step whose seed-level difference lies inside the
  equivalence margin (TOST, margins in nats and percentage points, `_config.yml` section
  `verdicts_v2`) is "no change", so a flat curve gets a verdict.
- **Supported by intersection-union, contradicted with Holm.** A claim that is the
  conjunction of its parts ("rises at every step, on every series") is supported when
  every part holds, each tested at α with no correction (Berger's intersection-union
  test has level α). It is contradicted when one part is shown to fail; that is a union
  of tests, so the p-values of failing are Holm-adjusted over all parts of the claim
  (every step, the endpoint and every series).
- **Split verdicts.** A claim whose parts both hold and fail is "split", and says where:
  "holds for 0 -> 75 %, fails at 75 -> 95 %".

Verdict words carry no comma: supported, split, contradicted, inconclusive, not tested.

The parts of a claim and the verdict from them are helpers.stats.judging; this module holds
the verdict vocabulary and the numbers the rules judge with.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from helpers.stats.verdicts import Rules

VERSION = 2

SUPPORTED = "supported"
SPLIT = "split"
CONTRADICTED = "contradicted"
INCONCLUSIVE = "inconclusive"
NOT_TESTED = "not tested"
VERDICTS = (SUPPORTED, SPLIT, CONTRADICTED, INCONCLUSIVE, NOT_TESTED)

HOLDS, FAILS, OPEN = "holds", "fails", "open"


@dataclass(frozen=True)
class RulesV2(Rules):
    """The numbers rules v2 use: v1's (`_config.yml` section `verdicts`) and v2's margins
    (section `verdicts_v2`)."""

    entropy_margin_nats: float
    disagreement_margin_nats: float
    fraction_margin_pp: float
    power: float

    def margin(self, key: str) -> float:
        """The "no change" margin of a trend measure, in its own unit (fractions, nats)."""
        margins = {
            "mean_entropy": self.entropy_margin_nats,
            "mean_member_entropy": self.entropy_margin_nats,
            "mean_disagreement": self.disagreement_margin_nats,
            "classified_fraction": self.fraction_margin_pp / 100,
        }
        if key not in margins:
            raise ValueError(f"rules v2 define no margin for {key!r}; use one of {', '.join(sorted(margins))}.")
        return margins[key]


V2_KEYS = ("entropy_margin_nats", "disagreement_margin_nats", "fraction_margin_pp", "power")


def rules_digest(config_path: str | Path | None = None) -> str:
    """sha256 of every number rules v1 and v2 judge with (`_config.yml`'s `verdicts` and
    `verdicts_v2`): a summary judged with other numbers is stale."""
    import dataclasses
    import json

    from helpers.core.fileio import sha256_bytes

    return sha256_bytes(json.dumps(dataclasses.asdict(load_rules_v2(config_path)), sort_keys=True).encode())


def load_rules_v2(config_path: str | Path | None = None) -> RulesV2:
    """v1's numbers (section `verdicts`) plus v2's margins (section `verdicts_v2`)."""
    from helpers.core.config import DEFAULT_CONFIG_PATH
    from helpers.stats.verdicts import config_section, load_rules

    path = Path(config_path or DEFAULT_CONFIG_PATH)
    v1 = load_rules(path)
    section = config_section(path, "verdicts_v2", V2_KEYS, "the margins of rules v2")
    if not section["power"] < 1:
        raise ValueError(f"verdicts_v2.power={section['power']!r} in {path} must lie in (0, 1).")
    return RulesV2(**dataclasses.asdict(v1), **{k: float(section[k]) for k in V2_KEYS})
