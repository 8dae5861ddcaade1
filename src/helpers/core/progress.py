"""Progress a researcher can watch: a bar per long stage (training and re-training epochs,
evaluation's variants) with elapsed and remaining time, on a terminal only (tqdm with
disable=None is off when stderr is not a TTY: logs, pipes, CI and the book's kernels,
which also set TQDM_DISABLE, stay clean).

    on_epoch = progress.epochs("training", total=20, start=0, then=clock)   # on_epoch(epoch, history)
    for name in progress.each(names, "evaluating"): ...
"""

from __future__ import annotations

from tqdm import tqdm


def epochs(what: str, total: int, then=None):
    """An on_epoch(epoch, history) callback that moves a bar of `total` epochs to epoch + 1
    (a resumed run starts where it stopped), then calls `then` (e.g. the stage clock)."""
    bar = tqdm(total=total, desc=what, unit="epoch", disable=None, leave=False)

    def on_epoch(epoch, history=None):
        bar.update(epoch + 1 - bar.n)
        if bar.n >= total:
            bar.close()
        if then is not None:
            then(epoch, history)

    on_epoch.bar = bar
    return on_epoch


def each(items, what: str):
    """`items`, one bar step each."""
    return tqdm(items, desc=what, disable=None, leave=False)
