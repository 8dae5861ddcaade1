"""The frontier chapter's view and tables (its sentences: helpers.book.frontier_answers): read-only over summary["frontier"]
(helpers.stages.frontier_numbers); nothing here averages, tests or ranks.

    fv = FrontierView(summary.data["frontier"])
    fv.stat("c16_s50_q8", "calibrated", "mnist", "nll")     # describe over seeds
    budget_table(fv, "raw")                                  # the best at 10, 30 and 100 kB
"""

from __future__ import annotations

import pandas as pd

from helpers.core import fmt
from helpers.core.datasets import label as dataset_label
from helpers.core.variants import label

TREATMENT_LABELS = {"raw": "raw", "calibrated": "calibrated", "calibrated_members": "calibrated members"}
PANEL_LABELS = {
    "mnist.nll": "MNIST NLL",
    "mnist.ece": "MNIST ECE",
    "notmnist.auroc": "NotMNIST AUROC",
    "fashion_mnist.auroc": "Fashion-MNIST AUROC",
}
KIND_LABELS = {
    "ensemble": "ensemble (paper's recipe)",
    "single": "single model",
    "clustered": "clustered",
    "pqat": "PQAT",
    "m_by_n": "2:4 structured",
    "student": "distilled student",
}


class FrontierMissing(ValueError):
    """A summary without frontier numbers: chapter 7 has nothing to show."""


def frontier_view(summary_data: dict, profile: str) -> "FrontierView":
    """The summary's frontier block, or one sentence saying how to make it."""
    block = summary_data.get("frontier")
    if not block:
        raise FrontierMissing(
            f"The summary of profile {profile!r} has no frontier numbers (no seed record holds them), so chapter 7 "
            f"has nothing to show; make them with `python -m helpers frontier --profile {profile} --seeds 0`, "
            "then build again."
        )
    return FrontierView(block)


class FrontierView:
    def __init__(self, block: dict):
        self.data = block

    @property
    def seeds(self) -> list[int]:
        return list(self.data["seeds"])

    @property
    def n(self) -> int:
        return int(self.data["n_seeds"])

    @property
    def names(self) -> list[str]:
        return list(self.data["stats"])

    def kind(self, name: str) -> str:
        return self.data["stats"][name]["kind"]

    def stat(self, name: str, treatment: str, dataset: str, metric: str) -> dict | None:
        return self.data["stats"].get(name, {}).get(treatment, {}).get(dataset, {}).get(metric)

    def mean(self, name: str, treatment: str, dataset: str, metric: str):
        s = self.stat(name, treatment, dataset, metric)
        return None if s is None else s["mean"]

    def size(self, name: str) -> float:
        return self.data["stats"][name]["size"]["zipped_bytes"]["mean"]

    def temperature(self, name: str) -> float:
        return self.data["stats"][name]["temperature"]["mean"]

    def front(self, treatment: str, panel: str) -> list[str]:
        return list(self.data["fronts"][treatment][panel])

    def budget(self, treatment: str, panel: str, kb: int) -> dict:
        return self.data["budgets"][treatment][panel][str(kb)]

    def equal(self, treatment: str, panel: str) -> dict:
        return self.data["equal_bytes"][treatment][panel]

    @property
    def budgets_kb(self) -> list[int]:
        return list(self.data["budgets_kb"])

    @property
    def panels(self) -> list[dict]:
        return list(self.data["panels"])


# --- formatting one value of a panel -------------------------------------------------------------
def value(panel: str, x, signed: bool = False) -> str:
    """A panel's number as the book prints it: NLL in nats, ECE in %, AUROC to 3 decimals."""
    if x is None:
        return fmt.MISSING
    if panel.endswith("ece"):
        return fmt.pp(x) if signed else fmt.pct(x)
    if panel.endswith("nll"):
        return fmt.nats(x, signed=signed)
    return fmt.number(x, 3, signed=signed)


def interval(panel: str, d: dict | None) -> str:
    if not d or d.get("low") is None:
        return fmt.MISSING
    mean, low, high = (value(panel, d[k], signed=True) for k in ("mean", "low", "high"))
    return f"{mean} [{low}, {high}]"


# --- tables -----------------------------------------------------------------------------------------
def _ordered(fv: FrontierView) -> list[str]:
    return sorted(fv.names, key=fv.size)


def in_distribution_table(fv: FrontierView) -> pd.DataFrame:
    """Every ensemble by size: zipped kB, its temperature, MNIST NLL and ECE raw and calibrated."""
    rows = []
    for n in _ordered(fv):
        rows.append(
            {
                "Configuration": label(n),
                "Kind": KIND_LABELS.get(fv.kind(n), fv.kind(n)),
                "Zipped (kB)": fmt.bare(fmt.kb, fv.size(n)),
                "Temperature": fmt.number(fv.temperature(n), 2),
                "NLL raw (nats)": fmt.bare(fmt.nats, fv.mean(n, "raw", "mnist", "nll")),
                "NLL calibrated (nats)": fmt.bare(fmt.nats, fv.mean(n, "calibrated", "mnist", "nll")),
                "ECE raw (%)": fmt.bare(fmt.pct, fv.mean(n, "raw", "mnist", "ece")),
                "ECE calibrated (%)": fmt.bare(fmt.pct, fv.mean(n, "calibrated", "mnist", "ece")),
            }
        )
    return pd.DataFrame(rows).set_index("Configuration")


def ood_table(fv: FrontierView) -> pd.DataFrame:
    """Every ensemble by size: AUROC (entropy) on both OOD sets, raw and calibrated."""
    rows = []
    for n in _ordered(fv):
        row = {"Configuration": label(n), "Zipped (kB)": fmt.bare(fmt.kb, fv.size(n))}
        for ds in ("notmnist", "fashion_mnist"):
            for t in ("raw", "calibrated"):
                row[f"{dataset_label(ds)} AUROC {TREATMENT_LABELS[t]}"] = fmt.number(fv.mean(n, t, ds, "auroc"), 3)
        rows.append(row)
    return pd.DataFrame(rows).set_index("Configuration")


def budget_table(fv: FrontierView, treatment: str) -> pd.DataFrame:
    """Per budget and panel: the best configuration that fits, the runner-up, their paired
    difference over seeds, and the seeds where the best is best."""
    rows = []
    for kb in fv.budgets_kb:
        for p in fv.panels:
            b = fv.budget(treatment, p["key"], kb)
            rows.append(
                {
                    "Budget": f"{kb} kB",
                    "Measure": PANEL_LABELS[p["key"]],
                    "Best": label(b["best"]) if b["best"] else "nothing fits",
                    "Runner-up": label(b["runner_up"]) if b["runner_up"] else fmt.MISSING,
                    "Best − runner-up": interval(p["key"], b["diff"]),
                    "Seeds won": f"{len(b['wins'])} of {fv.n}",
                }
            )
    return pd.DataFrame(rows).set_index(["Budget", "Measure"])


def equal_bytes_table(fv: FrontierView, treatment: str) -> pd.DataFrame:
    """Every compressed ensemble against the best single model or student no larger than it."""
    rows = []
    for p in fv.panels:
        for name, e in sorted(fv.equal(treatment, p["key"]).items(), key=lambda kv: fv.size(kv[0])):
            rows.append(
                {
                    "Measure": PANEL_LABELS[p["key"]],
                    "Ensemble": label(name),
                    "Against": label(e["reference"]),
                    "Ensemble − single": interval(p["key"], e["diff"]),
                    "Verdict": {"better": "ensemble better", "worse": "single better"}.get(e["verdict"], "not resolved"),
                }
            )
    return pd.DataFrame(rows).set_index(["Measure", "Ensemble"])


def audit_table(fv: FrontierView) -> pd.DataFrame:
    """The int8 softmax's effect: zero probabilities and the change it makes (int8 − float softmax)."""
    rows = []
    for name, a in fv.data["audit"].items():
        rows.append(
            {
                "Configuration": label(name),
                "Zero probabilities, NotMNIST (%)": fmt.bare(fmt.pct, a["zero_fraction"]["notmnist"]["mean"]),
                "MNIST NLL (nats)": fmt.bare(fmt.nats, a["mnist"]["nll"]["mean"], signed=True),
                "NotMNIST entropy (nats)": fmt.bare(fmt.nats, a["notmnist"]["mean_entropy"]["mean"], signed=True),
                "NotMNIST disagreement (nats)": fmt.bare(fmt.nats, a["notmnist"]["mean_disagreement"]["mean"], signed=True)
                if "mean_disagreement" in a["notmnist"]
                else fmt.MISSING,
            }
        )
    return pd.DataFrame(rows).set_index("Configuration")


VERDICT_CLAIMS = ("C7", "C8", "C10")


def verdicts_table(fv: FrontierView) -> pd.DataFrame:
    """Rules v2's C7, C8 and C10 on the frontier's seeds, raw beside calibrated."""
    v = fv.data.get("verdicts")
    rows = []
    if v is None:
        return pd.DataFrame(
            [{"Claim": fmt.MISSING, "Data": fmt.MISSING, "Raw": "too few seeds", "Calibrated": "too few seeds"}]
        ).set_index(["Claim", "Data"])
    for cid in VERDICT_CLAIMS:
        for ds in v["raw"][cid]:
            rows.append(
                {
                    "Claim": cid,
                    "Data": dataset_label(ds),
                    "Raw": v["raw"][cid][ds]["verdict"],
                    "Calibrated": v["calibrated"][cid].get(ds, {}).get("verdict", fmt.MISSING),
                }
            )
    return pd.DataFrame(rows).set_index(["Claim", "Data"])
