"""`hellbender inference`: one prompt, or a chat loop on stdin that keeps the conversation's history."""

from __future__ import annotations

import sys

from rich.console import Console
from transformers import TextStreamer

from hellbender.config import Config
from hellbender.infer.generate import build_prompt, generate, load_for_inference


def run_inference(
    config: Config, prompt: str | None, max_new_tokens: int, temperature: float, system: str | None, base_only: bool
) -> None:
    console = Console(stderr=True)
    loaded = load_for_inference(config, base_only=base_only)
    console.print(f"[dim]using {loaded.description}[/dim]")
    history: list[dict[str, str]] = [{"role": "system", "content": system}] if system else []
    if prompt is not None:
        messages = [*history, {"role": "user", "content": prompt}]
        print(generate(loaded, [build_prompt(config, loaded.tokenizer, messages)], max_new_tokens, temperature)[0])
        return
    interactive = sys.stdin.isatty()
    if interactive:
        console.print("[dim]type a message; /reset clears the history, /exit or Ctrl-D quits[/dim]")
    streamer = TextStreamer(loaded.tokenizer, skip_prompt=True, skip_special_tokens=True)
    while True:
        if interactive:
            console.print("[bold cyan]you>[/bold cyan] ", end="")
        line = sys.stdin.readline()
        if not line or line.strip() == "/exit":
            break
        if line.strip() == "/reset":
            history = history[:1] if system else []
            continue
        if not line.strip():
            continue
        history.append({"role": "user", "content": line.rstrip("\n")})
        reply = generate(
            loaded, [build_prompt(config, loaded.tokenizer, history)], max_new_tokens, temperature, streamer=streamer
        )[0]
        history.append({"role": "assistant", "content": reply})
