"""The training loop (DESIGN.md decision 1): one loop for full and LoRA fine-tunes, on Accelerate.

Read top to bottom: build → for each optimizer step, take `gradient_accumulation_steps` micro-batches, count their
trained tokens across ranks, backpropagate each micro-batch's summed loss divided by that count → clip, step, log,
evaluate, checkpoint → save the final model beside the resolved config and a manifest.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.optim.lr_scheduler import LRScheduler
from tqdm.auto import tqdm
from transformers import PreTrainedTokenizerBase

from hellbender.config import Config
from hellbender.data.collate import PackedCollator, PadCollator
from hellbender.data.loader import BatchLoader, BatchPlan, steps_in_epochs
from hellbender.data.pipeline import prepare_data
from hellbender.model.adapters import apply_adapter
from hellbender.model.attention import FLATTENED, check_packed_isolation, select_attention
from hellbender.model.load import load_model, load_tokenizer, select_dtype
from hellbender.train.checkpoint import (
    checkpoint_to_resume,
    load_checkpoint,
    save_checkpoint,
    save_only_trainable_weights,
)
from hellbender.train.guards import LossWatchdog
from hellbender.train.loss import token_loss_sum, trained_token_count
from hellbender.train.optim import build_optimizer, build_scheduler
from hellbender.train.outputs import save_final
from hellbender.train.tracking import MetricsLog


@dataclass
class StepPlan:
    """How many optimizer steps the run takes and when it evaluates and saves."""

    steps_per_epoch: int
    total_steps: int
    eval_every: int | None
    save_every: int | None

    @classmethod
    def from_config(cls, config: Config, loader: BatchLoader) -> StepPlan:
        steps_per_epoch, epoch_steps = steps_in_epochs(loader, config.gradient_accumulation_steps, config.num_epochs)
        total = config.max_steps or epoch_steps

        def every(per_epoch: int | None, steps: float | None) -> int | None:
            if steps is not None:  # Axolotl's eval_steps/save_steps: a count, or below 1 a fraction of the run
                return max(1, math.ceil(steps * total) if steps < 1 else int(steps))
            return max(1, steps_per_epoch // per_epoch) if per_epoch else None

        return cls(
            steps_per_epoch,
            total,
            every(config.evals_per_epoch, config.eval_steps),
            every(config.saves_per_epoch, config.save_steps),
        )


def _mixed_precision(dtype: torch.dtype) -> str:
    return {torch.bfloat16: "bf16", torch.float16: "fp16"}.get(dtype, "no")


def _windows(loader: BatchLoader, accumulation: int, done_steps: int) -> Iterator[list[dict]]:
    """Yield the micro-batches of each optimizer step, reshuffling (or repacking) each epoch from the seed; windows
    never span epochs.

    After `done_steps` (a resumed run) it starts in the right epoch and skips the micro-batches already trained;
    epochs may differ in length (each packs anew), so it walks them. Skipping within an epoch costs only collation
    and keeps the seeded order identical to an uninterrupted run.
    """
    epoch = 0
    while done_steps >= (steps := math.ceil(loader.batches_in_epoch(epoch) / accumulation)):
        done_steps -= steps
        epoch += 1
    skip = done_steps * accumulation
    while True:
        loader.set_epoch(epoch)
        window: list[dict] = []
        for batch in loader:
            if skip:
                skip -= 1
                continue
            window.append(batch)
            if len(window) == accumulation:
                yield window
                window = []
        if window:
            yield window
        epoch += 1


def forward(model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Logits of a padded batch (attention mask) or a packed one (restarting position_ids, no mask, no cache)."""
    return model(
        input_ids=batch["input_ids"],
        attention_mask=batch.get("attention_mask"),
        position_ids=batch.get("position_ids"),
        use_cache=False,  # with a cache object present, transformers no longer separates packed samples
    ).logits


def evaluate_loss(model: torch.nn.Module, loader: BatchLoader, accelerator: Accelerator) -> float:
    """Mean next-token loss over all trained tokens of the loader (all ranks)."""
    model.eval()
    loss_sum = torch.zeros((), device=accelerator.device)
    tokens = torch.zeros((), device=accelerator.device)
    with torch.no_grad():
        for batch in loader:
            logits = forward(model, batch)
            loss_sum += token_loss_sum(logits, batch["labels"])
            tokens += trained_token_count(batch["labels"])
    model.train()
    loss_sum, tokens = accelerator.reduce(loss_sum, "sum"), accelerator.reduce(tokens, "sum")
    return (loss_sum / tokens.clamp(min=1)).item()


def train_step(model: torch.nn.Module, window: list[dict], accelerator: Accelerator) -> tuple[float, int]:
    """Forward/backward over one accumulation window; returns (mean loss per trained token, trained tokens)."""
    local = sum(trained_token_count(b["labels"]) for b in window)
    total = accelerator.reduce(torch.as_tensor(local, device=accelerator.device), "sum").clamp(min=1)
    loss_sum = torch.zeros((), device=accelerator.device)
    for i, batch in enumerate(window):
        sync = nullcontext() if i == len(window) - 1 else accelerator.no_sync(model)
        with sync:
            logits = forward(model, batch)
            summed = token_loss_sum(logits, batch["labels"])
            # DDP averages gradients over ranks; scaling by the rank count makes it a sum over the global window.
            accelerator.backward(summed * accelerator.num_processes / total)
        loss_sum += summed.detach()
    return (accelerator.reduce(loss_sum, "sum") / total).item(), int(total.item())


def _loader(data, config: Config, accelerator: Accelerator, pad_id: int, attention: str, train: bool) -> BatchLoader:
    """This process's batches: packed bins when `sample_packing` (or `eval_sample_packing` for evaluation)."""
    plan = BatchPlan.from_config(config, train)
    pad_to = config.sequence_len if config.pad_to_sequence_len else None
    collate = (
        PackedCollator(pad_id, pad_to=pad_to, flatten=attention in FLATTENED)
        if plan.packing
        else PadCollator(pad_id, pad_to=pad_to)
    )
    return BatchLoader(
        data,
        plan,
        collate,
        rank=accelerator.process_index,
        world_size=accelerator.num_processes,
        device=accelerator.device,
    )


def _trainable_model(config: Config, tokenizer: PreTrainedTokenizerBase, dtype: torch.dtype) -> torch.nn.Module:
    """Base weights with the chosen attention (checked to isolate packed samples when packing), activation
    checkpointing if asked, then the adapter (or all weights trainable)."""
    model = load_model(config, tokenizer, dtype, select_attention(config, dtype))
    if config.sample_packing or config.eval_sample_packing:
        check_packed_isolation(model, tokenizer.pad_token_id)
    if config.gradient_checkpointing:
        kwargs = {"use_reentrant": False}
        if hasattr(model, "activation_checkpointing_enable"):  # transformers >= 5.2x name; the old one warns
            model.activation_checkpointing_enable(activation_checkpointing_kwargs=kwargs)
        else:
            model.gradient_checkpointing_enable(gradient_checkpointing_kwargs=kwargs)
        model.enable_input_require_grads()
    model.config.use_cache = False  # a cache object is never needed in training and costs memory
    token_ids = tokenizer.convert_tokens_to_ids(list(config.tokens)) if config.tokens else None
    return apply_adapter(model, config, token_ids)


@dataclass
class Progress:
    """The loop's position and running counters: saved in checkpoints, so a resumed run continues exactly."""

    step: int = 0
    trained_tokens: int = 0
    tokens: int = 0
    best_eval_loss: float | None = None
    evals_without_improvement: int = 0

    @classmethod
    def from_saved(cls, saved: dict) -> Progress:
        return cls(**{k: v for k, v in saved.items() if k in cls.__dataclass_fields__})


@dataclass
class Run:
    """Everything the step loop works with, built once by `train`."""

    config: Config
    plan: StepPlan
    accelerator: Accelerator
    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: LRScheduler
    train_loader: BatchLoader
    val_loader: BatchLoader | None
    tokenizer: PreTrainedTokenizerBase
    log: MetricsLog
    fingerprint: str


def train(config: Config) -> dict:
    """Run the fine-tune described by `config`; returns the final metrics (also in output_dir)."""
    dtype = select_dtype(config)
    accelerator = Accelerator(
        cpu=not torch.cuda.is_available(),  # lets torchrun/accelerate start several CPU processes (gloo)
        mixed_precision=_mixed_precision(dtype),
    )
    set_seed(config.seed)
    if config.tf32 and torch.cuda.is_available():
        torch.backends.cuda.matmul.allow_tf32 = True
    tokenizer = load_tokenizer(config)
    with accelerator.main_process_first():  # rank 0 builds the data cache, the others then reuse it
        data = prepare_data(config, tokenizer)
    model = _trainable_model(config, tokenizer, dtype)
    optimizer = build_optimizer(model, config)
    attention = getattr(model.config, "_attn_implementation", None) or "default"
    train_loader = _loader(data.train, config, accelerator, tokenizer.pad_token_id, attention, train=True)
    val_loader = (
        _loader(data.val, config, accelerator, tokenizer.pad_token_id, attention, train=False) if data.val else None
    )
    model, optimizer = accelerator.prepare(model, optimizer)
    plan = StepPlan.from_config(config, train_loader)
    scheduler = build_scheduler(optimizer, config, plan.total_steps)
    accelerator.register_for_checkpointing(scheduler)
    save_only_trainable_weights(accelerator)

    progress, resumed_from = Progress(), checkpoint_to_resume(config)
    if resumed_from is not None:
        progress = Progress.from_saved(load_checkpoint(accelerator, model, resumed_from, data.fingerprint))
    output_dir = Path(config.output_dir)
    log = MetricsLog(output_dir / "metrics.jsonl", enabled=accelerator.is_main_process, append=resumed_from is not None)
    packing = asdict(train_loader.packing_stats()) if config.sample_packing else None
    log.write(
        event="start",
        total_steps=plan.total_steps,
        steps_per_epoch=plan.steps_per_epoch,
        train_rows=len(data.train),
        val_rows=len(data.val) if data.val else 0,
        trainable_params=sum(p.numel() for p in model.parameters() if p.requires_grad),
        dtype=str(dtype).removeprefix("torch."),
        processes=accelerator.num_processes,
        resumed_from=str(resumed_from) if resumed_from else None,
        resumed_at_step=progress.step,
        attention=attention,
        packing=packing,
    )
    if val_loader is not None and progress.step == 0:  # the untrained baseline for every later eval_loss
        log.write(event="eval", step=0, epoch=0.0, eval_loss=_record_eval(model, val_loader, accelerator, progress))
    run = Run(
        config,
        plan,
        accelerator,
        model,
        optimizer,
        scheduler,
        train_loader,
        val_loader,
        tokenizer,
        log,
        data.fingerprint,
    )
    summary = {**_run_steps(run, progress), "attention": attention, "packing": packing}
    save_final(accelerator, model, tokenizer, config, data, summary)
    log.write(event="end", **summary)
    return summary


def _record_eval(model: torch.nn.Module, loader: BatchLoader, accelerator: Accelerator, progress: Progress) -> float:
    """Evaluate and update the early-stopping counters kept in `progress`."""
    loss = evaluate_loss(model, loader, accelerator)
    if progress.best_eval_loss is None or loss < progress.best_eval_loss:
        progress.best_eval_loss, progress.evals_without_improvement = loss, 0
    else:
        progress.evals_without_improvement += 1
    return loss


def _run_steps(run: Run, progress: Progress) -> dict:
    """The optimizer steps from `progress.step + 1` to the end: step, log, evaluate, stop early, checkpoint."""
    config, plan, accelerator, model, log = run.config, run.plan, run.accelerator, run.model, run.log
    watchdog = LossWatchdog(config.loss_watchdog_threshold, config.loss_watchdog_patience)
    windows = _windows(run.train_loader, config.gradient_accumulation_steps, progress.step)
    bar = tqdm(
        total=plan.total_steps, initial=progress.step, desc="training", disable=not accelerator.is_local_main_process
    )
    started, tokens_at_start, last = time.perf_counter(), progress.tokens, {}
    model.train()
    while progress.step < plan.total_steps:
        window = next(windows)
        loss, trained_tokens = train_step(model, window, accelerator)
        grad_norm = (
            accelerator.clip_grad_norm_(model.parameters(), config.max_grad_norm)
            if (config.max_grad_norm and config.max_grad_norm > 0)
            else None
        )
        run.optimizer.step()
        run.scheduler.step()
        run.optimizer.zero_grad(set_to_none=True)
        progress.step += 1
        step = progress.step
        progress.trained_tokens += trained_tokens
        progress.tokens += int(accelerator.reduce(sum(b["num_tokens"] for b in window), "sum").item())
        last = {
            "step": step,
            "epoch": round(step / plan.steps_per_epoch, 4),
            "loss": loss,
            "lr": run.scheduler.get_last_lr()[0],
            "trained_tokens": progress.trained_tokens,
            "tokens": progress.tokens,
            "grad_norm": float(grad_norm) if grad_norm is not None else None,
            "tokens_per_s": round((progress.tokens - tokens_at_start) / (time.perf_counter() - started), 1),
        }
        if step % config.logging_steps == 0 or step == plan.total_steps:
            log.write(event="train", **last)
        bar.set_postfix(loss=f"{loss:.4f}", lr=f"{last['lr']:.2e}")
        bar.update(1)
        watchdog.check(step, loss)
        if run.val_loader is not None and (
            (plan.eval_every and step % plan.eval_every == 0) or step == plan.total_steps
        ):
            last["eval_loss"] = _record_eval(model, run.val_loader, accelerator, progress)
            log.write(event="eval", step=step, epoch=last["epoch"], eval_loss=last["eval_loss"])
            bar.write(f"step {step}: eval_loss {last['eval_loss']:.4f}")
            patience = config.early_stopping_patience
            if patience is not None and progress.evals_without_improvement >= patience:
                log.write(event="early_stop", step=step, best_eval_loss=progress.best_eval_loss)
                bar.write(f"early stopping at step {step}: eval_loss has not improved for {patience} evaluations")
                break
        if plan.save_every and step % plan.save_every == 0 and step < plan.total_steps:
            save_checkpoint(
                accelerator,
                model,
                run.tokenizer,
                Path(config.output_dir),
                {**asdict(progress), "data_fingerprint": run.fingerprint},
                config.save_total_limit,
            )
    bar.close()
    return {**last, "train_runtime_s": round(time.perf_counter() - started, 2)}
