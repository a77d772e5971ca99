"""Stop conditions checked during training: a diverged loss (abort with an error) and a stalled eval loss
(stop early, keep the model)."""

from __future__ import annotations

import math

from hellbender.errors import HellbenderError


class LossWatchdog:
    """`loss_watchdog_threshold`/`_patience`: abort when the loss stays above the threshold (or is not finite)."""

    def __init__(self, threshold: float | None, patience: int) -> None:
        self.threshold, self.patience, self.strikes = threshold, patience, 0

    def check(self, step: int, loss: float) -> None:
        if self.threshold is None:
            return
        self.strikes = self.strikes + 1 if (loss > self.threshold or not math.isfinite(loss)) else 0
        if self.strikes >= self.patience:
            raise HellbenderError(
                f"training stopped at step {step}: the loss ({loss:.4g}) stayed above loss_watchdog_threshold "
                f"({self.threshold}) for {self.strikes} steps in a row, so the run has diverged.",
                hint="lower learning_rate, add warmup_steps, or check the data; checkpoints saved so far are kept.",
            )


class EarlyStopping:
    """`early_stopping_patience`: stop when the eval loss has not improved for that many evaluations."""

    def __init__(self, patience: int | None) -> None:
        self.patience, self.best, self.stale = patience, math.inf, 0

    def should_stop(self, eval_loss: float) -> bool:
        if self.patience is None:
            return False
        if eval_loss < self.best:
            self.best, self.stale = eval_loss, 0
        else:
            self.stale += 1
        return self.stale >= self.patience
