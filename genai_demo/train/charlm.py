"""Train the character-level GPT on Tiny Shakespeare: minimise -log p(next character | the characters before it).

As nanoGPT's ``shakespeare_char``: the first 90% of the characters train, the last 10% are held out, and the
loss is reported in nats per character. The learning rate warms up, then follows a cosine down to a tenth; with
a time budget the cosine is laid over the budget, so a run cut short by its budget still ends at the low rate.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import torch

from genai_demo.data.shakespeare import HUB_ID, load_shakespeare, split
from genai_demo.models.charlm import (PRESETS, build_tokenizer, generate_stream, lm_loss, make_model, nats_per_char,
                                      random_batch)
from genai_demo.train.common import MAX_SHARD_SIZE, BestWeights, TrainRun, card_front_matter, card_tail, invocation, write_summary

MODEL_ID = "text/shakespeare"
TITLE = "Character-level GPT trained on Tiny Shakespeare"
DESCRIPTION = (
    "A small decoder-only transformer (transformers' LlamaForCausalLM: RMSNorm, rotary positions, SwiGLU) that "
    "reads text one character at a time and predicts the next character from all those before it; writing "
    "samples each next character from that prediction and feeds it back in."
)
SAMPLE_PROMPT = "ROMEO:\n"


def bf16_available() -> bool:
    """Whether this CPU multiplies bfloat16 natively (AVX512-BF16 or AMX): mixed precision then about halves a step."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def train(data_dir, out_dir, *, preset: str = "base", epochs: int | None = None, max_steps: int | None = 5000,
          batch_size: int = 16, lr: float = 1e-3, seed: int = 0, time_budget: float | None = None,
          limit: int | None = None, warmup_steps: int = 100, eval_every: int = 250, eval_chars: int = 32768,
          bf16: bool | None = None) -> dict:
    """Train and save to ``out_dir``; ``limit`` keeps only the first N characters (for quick checks)."""
    torch.manual_seed(seed)
    text = load_shakespeare(data_dir)[:limit]
    train_text, val_text = split(text)
    block = PRESETS[preset]["max_position_embeddings"]
    tokenizer = build_tokenizer(text, block)
    train_ids = torch.tensor(tokenizer(train_text)["input_ids"], dtype=torch.long)
    val_ids = torch.tensor(tokenizer(val_text)["input_ids"], dtype=torch.long)
    model = make_model(len(tokenizer), preset)
    n_params = sum(p.numel() for p in model.parameters())
    bf16 = bf16_available() if bf16 is None else bf16

    tokens_per_step = batch_size * min(block, len(train_ids) - 1)
    total = max_steps or 5000
    if epochs:
        total = min(total, math.ceil(epochs * len(train_ids) / tokens_per_step))
    opt = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.99), weight_decay=0.1)
    run = TrainRun(out_dir, total, time_budget, desc=MODEL_ID, log_every=50)
    data_gen = torch.Generator().manual_seed(seed)

    def estimate() -> dict:
        """Losses on fixed slices of both splits (the full validation is measured once, at the end)."""
        n = eval_chars
        return {"train_eval_loss": nats_per_char(model, train_ids[:n], len(train_text[:n]), block),
                "val_loss": nats_per_char(model, val_ids[:n], len(val_text[:n]), block)}

    def write_sample(step: int) -> str:
        model.eval()
        gen = torch.Generator().manual_seed(1234)
        ids = tokenizer(SAMPLE_PROMPT)["input_ids"]
        new = [s.token_id for s in generate_stream(model, ids, gen, max_new_tokens=300, temperature=0.8)]
        sample = SAMPLE_PROMPT + tokenizer.decode(new)
        path = Path(out_dir) / "samples" / f"step_{step:05d}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(sample + "\n")
        model.train()
        return sample

    recent: list[float] = []
    best = BestWeights()
    while run.step < total and run.progress() < 1.0:
        model.train()
        for group in opt.param_groups:
            group["lr"] = run.learning_rate(lr, warmup_steps)
        x, y = random_batch(train_ids, batch_size, block, data_gen)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):  # matmuls in bf16, weights stay float32
            loss = lm_loss(model, x, y)  # nats per character
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        recent = (recent + [loss.item()])[-50:]
        epoch = run.step * tokens_per_step // max(1, len(train_ids))
        run.advance(epoch, loss=loss.item(), lr=opt.param_groups[0]["lr"])
        if run.step % eval_every == 0:
            losses = estimate()
            run.log(epoch=epoch, **losses)
            best.offer(model, losses["val_loss"], run.step)
            write_sample(run.step)
    final_estimate = estimate()
    run.log(epoch=run.step * tokens_per_step // max(1, len(train_ids)), **final_estimate)
    kept_step = best.restore_if_better(model, final_estimate["val_loss"], run.step)
    if kept_step != run.step:  # the end was worse: the best weights are back, measure them
        final_estimate = estimate()
    write_sample(run.step)
    run.close()

    model.eval()
    model.generation_config.do_sample = True  # what pipeline("text-generation") does by default with this folder
    model.generation_config.temperature = 0.8
    model.generation_config.max_new_tokens = 200
    model.save_pretrained(out_dir, max_shard_size=MAX_SHARD_SIZE)
    tokenizer.save_pretrained(out_dir)
    val = nats_per_char(model, val_ids, len(val_text), block)  # the whole held-out 10%, in float32
    summary = {
        "id": MODEL_ID, "title": TITLE, "description": DESCRIPTION,
        "tags": ["text-generation", "character-level", "transformer", "llama", "tiny-shakespeare"],
        "datasets": [HUB_ID],
        "data": (f"Tiny Shakespeare, {len(text):,} characters: the first {len(train_text):,} train, the last "
                 f"{len(val_text):,} are held out for validation (nanoGPT's 90/10 split); {len(tokenizer)} tokens "
                 f"({len(tokenizer) - 1} characters and <unk>)"),
        "command": invocation(), "config": {**PRESETS[preset], "vocab_size": len(tokenizer)}, "parameters": n_params,
        "steps": run.step, "epochs": round(run.step * tokens_per_step / max(1, len(train_ids)), 2),
        "batch_size": batch_size, "seed": seed, "minutes": run.elapsed / 60, "lr": lr, "bf16_autocast": bf16,
        "tokens_seen": run.step * tokens_per_step, "kept_step": kept_step,
        "final_losses": {"train_loss_nats_per_char": final_estimate["train_eval_loss"],
                         "val_loss_nats_per_char": val},
        "last_steps_train_loss": sum(recent) / max(1, len(recent)),
        "limits": "Writes Shakespeare-like text character by character. It has read about a million characters, so it "
                  "learns spelling, names, line shapes and the look of a play, not meaning; it invents words and "
                  "loses the thread after a line or two. It knows only the 65 characters of its training text.",
    }
    write_summary(out_dir, summary)
    write_card(out_dir)
    return summary


def write_card(out_dir) -> None:
    """README.md in the Hugging Face model-card convention, from training.json and, if measured, scores.json."""
    out_dir = Path(out_dir)
    t = json.loads((out_dir / "training.json").read_text())
    losses = t["final_losses"]
    lines = card_front_matter(out_dir, t, library_name="transformers", pipeline_tag="text-generation",
                              datasets=[HUB_ID], eval_dataset=(HUB_ID, "Tiny Shakespeare"))
    lines += [
        "", f"# {t['title']}", "", t["description"], "",
        "## Use", "",
        "```python",
        "from transformers import AutoModelForCausalLM, AutoTokenizer, pipeline",
        "model = AutoModelForCausalLM.from_pretrained(\"weights/text-shakespeare\")",
        "tokenizer = AutoTokenizer.from_pretrained(\"weights/text-shakespeare\")",
        "print(pipeline(\"text-generation\", model=model, tokenizer=tokenizer)(\"ROMEO:\\n\", max_new_tokens=200)[0]"
        "[\"generated_text\"])",
        "```", "",
        "Or `python -m genai_demo generate text/shakespeare --set prompt='ROMEO:' --out out/`.", "",
        "## How it was made", "",
        f"- Data: {t['data']}",
        f"- Command: `{t['command']}`",
        f"- Config: `{json.dumps(t['config'])}` ({t['parameters']:,} parameters)",
        f"- Training: {t['steps']:,} steps of {t['batch_size']} windows ({t['tokens_seen']:,} characters, "
        f"{t['epochs']} passes over the training text), AdamW lr {t['lr']} with warm-up and cosine decay, seed "
        f"{t['seed']}, {t['minutes']:.1f} minutes on {t['threads']} CPU thread(s) (torch {t['torch']}"
        f"{', bfloat16 autocast' if t.get('bf16_autocast') else ''})"
        + (f"; the weights of step {t['kept_step']:,} were kept, where the validation estimate was lowest"
           if t.get("kept_step", t["steps"]) != t["steps"] else ""),
        f"- Final losses of the saved weights: train {losses['train_loss_nats_per_char']:.4f} nats/char (the first "
        f"32k characters of the training text), **validation {losses['val_loss_nats_per_char']:.4f} nats/char** on the "
        "whole held-out 10%",
        "- Loss log: `train_log.jsonl` (`loss` per logged step; `train_eval_loss` and `val_loss` on fixed 32k-character "
        "slices every 250 steps); samples written during training: `samples/`",
        "",
    ]
    lines += card_tail(out_dir, "`python bench/text_bench.py --write-card`", t["limits"])
    (out_dir / "README.md").write_text("\n".join(lines))
