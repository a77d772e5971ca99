"""The loss watchdog: abort a run whose loss has diverged, with an error that says what to change.
(Early stopping on a stalled eval loss lives in the loop, since its counters are part of the checkpointed progress.)"""

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
