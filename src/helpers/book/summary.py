"""Read-only access to summary.json, the between-seed numbers helpers.stages.aggregate produced.

    s = Summary(json.loads(path.read_text()))
    s.stat("s25_q8", "notmnist", "mean_entropy")     # {"n", "mean", "sd", "low", "high", "values"}
    s.diff("vs_q8", "s95_q8", "notmnist", "detection.entropy.auroc")
    s.v2("C7", "fashion_mnist")                       # rules v2's judgement on one dataset

Nothing here computes a statistic: every number was written by the aggregate stage. A
lookup of something the summary lacks returns None (the formatters print an em dash).
"""

from __future__ import annotations

import json
from pathlib import Path

SIZE = "size"


class Summary:
    def __init__(self, data: dict):
        self.data = data

    @classmethod
    def read(cls, path: Path) -> "Summary":
        return cls(json.loads(Path(path).read_text()))

    # --- what it covers -----------------------------------------------------------------
    @property
    def seeds(self) -> list[int]:
        return list(self.data["seeds"])

    @property
    def n(self) -> int:
        return int(self.data["n_seeds"])

    @property
    def level(self) -> str:
        """The confidence level of every interval the aggregate wrote ('95 %' at α = 0.05)."""
        from helpers.core.fmt import level

        return level(self.data["alpha"])

    @property
    def between_seeds(self) -> bool:
        return self.n >= 2

    def has(self, variant: str, dataset: str | None = None) -> bool:
        v = self.data["stats"].get(variant)
        return v is not None and (dataset is None or dataset in v)

    def label(self, dataset: str) -> str:
        return self.data["datasets"].get(dataset, {}).get("label", dataset)

    # --- numbers ------------------------------------------------------------------------------
    def stat(self, variant: str, dataset: str | None, key: str) -> dict | None:
        """Seed-level statistics of results[variant][dataset][key] (dataset None: the size)."""
        return self.data["stats"].get(variant, {}).get(dataset or SIZE, {}).get(key)

    def mean(self, variant: str, dataset: str | None, key: str):
        s = self.stat(variant, dataset, key)
        return None if s is None else s["mean"]

    def diff(self, kind: str, variant: str, dataset: str, key: str) -> dict | None:
        """Per-seed paired difference variant − reference (kind vs_baseline / vs_q8 / vs_control)."""
        return self.data["diffs"].get(kind, {}).get(variant, {}).get(dataset, {}).get(key)

    def front(self, key: str) -> list[str]:
        return list(self.data.get("fronts", {}).get(key, []))

    # --- verdicts -------------------------------------------------------------------------------
    def v1_rows(self) -> list[dict]:
        """Rules v1's claim rows (helpers.stats.claims on every seed), C1..C10."""
        return [dict(r, parts=[tuple(p) for p in r["parts"]]) for r in self.data["verdicts"]["v1"]]

    def v2(self, claim: str, dataset: str | None = None, confirmatory: bool = False) -> dict | None:
        """Rules v2's judgement of a claim on one dataset (None: its headline dataset)."""
        block = self.data["verdicts"]["v2"]["confirmatory" if confirmatory else "all"]
        if block is None or claim not in block:
            return None
        per = block[claim]
        if dataset is None:
            dataset = next((d for d in ("notmnist", "mnist", "model") if d in per), next(iter(per), None))
        return per.get(dataset)

    def v2_datasets(self, claim: str) -> list[str]:
        """The datasets a claim was judged on, the paper's own first."""
        order = ["model", "mnist", "notmnist", "fashion_mnist", "rotated_mnist", "corrupted_mnist"]
        names = list(self.data["verdicts"]["v2"]["all"].get(claim, {}))
        return sorted(names, key=lambda d: order.index(d) if d in order else len(order))

    @property
    def claims(self) -> list[str]:
        return sorted(self.data["verdicts"]["v2"]["all"], key=lambda c: int(c[1:]))

    @property
    def confirmatory_seeds(self) -> list[int]:
        return list(self.data["verdicts"]["v2"].get("confirmatory_seeds", []))

    # --- seeds and test images together ------------------------------------------------------
    def table1_rows(self) -> list[dict]:
        """Table 1's layer rows {"layer", "output_shape", "params"}, from the member model the
        aggregate built (helpers.engine.models.layer_rows): the chapter builds no model."""
        if "table1_rows" not in self.data:
            raise ValueError(
                "summary.json holds no table1_rows (written before they moved there); run "
                f"`python -m helpers aggregate --profile {self.data.get('profile', 'paper')}` again."
            )
        return self.data["table1_rows"]

    @property
    def two_level(self) -> dict | None:
        """The two-level block (seeds × test images; helpers.stages.seed_numbers.two_level_block), or
        None when fewer than two seeds have per-image packs."""
        return self.data.get("two_level")

    def two_level_diff(self, variant: str, metric: str) -> dict | None:
        """{"mean", "two_level": {...}, "seeds": {...}} of variant − baseline on MNIST."""
        block = self.two_level
        return None if block is None else block["variants"].get(variant, {}).get(metric)

    def two_level_verdict(self, claim: str, interval: str) -> dict | None:
        """A claim of C2-C4, C8 judged on the per-image seeds with `interval` "seeds" (the
        t-interval over those seeds) or "two_level" (seeds × images)."""
        block = self.two_level
        if block is None or claim not in block["verdicts"][interval]:
            return None
        return block["verdicts"][interval][claim]["mnist"]

    @property
    def seen(self) -> dict:
        return self.data["verdicts"]["v2"]["seen"]
