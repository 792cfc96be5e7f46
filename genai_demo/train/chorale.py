"""Train the chorale GPT: minimise -log p(next token | the tokens before it) over Bach's chorales.

``data_dir`` is the folder of the encoded-chorale cache (default: ``~/.cache/genai_demo/chorales``); the
chorales themselves come from music21's bundled corpus and are parsed into it on first use (about a minute).
About 10% of the chorales are held out (chosen by a hash of their names). The learning rate warms up and then
follows a cosine to a tenth, laid over the time budget when there is one. The weights with the lowest held-out
loss are kept (measured every ``eval_every`` steps).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import torch

from genai_demo.data.chorales import VOCAB, load_chorales, split
from genai_demo.models.chorale import (PRESETS, WINDOW_BARS, loss, make_model, nll_per_token, random_windows, sample,
                                       unigram_nll, voice_ranges, window_tokens)
from genai_demo.music import notes_of, piano_roll
from genai_demo.train.common import MAX_SHARD_SIZE, BestWeights, TrainRun, card_front_matter, card_tail, invocation, write_summary

MODEL_ID = "audio/chorale"
TITLE = "Chorale GPT trained on Bach's four-part chorales"
DESCRIPTION = (
    "A small decoder-only transformer (transformers' GPT2LMHeadModel) that writes four-part chorales on an "
    "eighth-note grid, one voice of one step at a time (soprano, alto, tenor, bass), trained on the Bach chorales "
    "bundled with music21, transposed to C major or A minor."
)


def train(data_dir, out_dir, *, preset: str = "base", max_steps: int | None = 4000, epochs: int | None = None,
          batch_size: int = 24, lr: float = 1e-3, seed: int = 0, time_budget: float | None = None,
          limit: int | None = None, warmup_steps: int = 100, eval_every: int = 200, dropout: float = 0.1,
          paths=None) -> dict:
    """Train and save to ``out_dir``; ``limit`` keeps only the first N chorales (quick checks)."""
    torch.manual_seed(seed)
    chorales = load_chorales(data_dir, paths=paths)[:limit]
    train_set, val_set = split(chorales)
    if not val_set:  # a handful of chorales (tests): hold out the last one
        train_set, val_set = train_set[:-1], train_set[-1:]
    train_tokens = [c.tokens for c in train_set]
    val_tokens = [c.tokens for c in val_set]
    ranges = voice_ranges(train_tokens)
    model = make_model(preset, dropout=dropout, voice_ranges=ranges)
    n_params = sum(p.numel() for p in model.parameters())
    total_tokens = sum(len(t) for t in train_tokens)
    tokens_per_step = batch_size * window_tokens()  # at most: windows near a chorale's end are shorter
    total = max_steps or 4000
    if epochs:
        total = min(total, math.ceil(epochs * total_tokens / tokens_per_step))
    opt = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.98), weight_decay=0.05)
    run = TrainRun(out_dir, total, time_budget, desc=MODEL_ID, log_every=25)
    gen = torch.Generator().manual_seed(seed)
    unigram = unigram_nll(train_tokens, val_tokens)

    def write_sample(step: int) -> None:
        """Four bars in major from a fixed seed: the tokens (JSON) and their piano roll (PNG)."""
        model.eval()
        from genai_demo.data.chorales import BOS, MAJOR

        steps = sample(model, [BOS, MAJOR], 4, torch.Generator().manual_seed(1234), temperature=0.9)
        tokens = [BOS, MAJOR] + [s.token_id for s in steps]
        path = Path(out_dir) / "samples" / f"step_{step:05d}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"step": step, "tokens": [VOCAB[t] for t in tokens]}) + "\n")
        piano_roll(notes_of(tokens)).save(path.with_suffix(".png"))
        model.train()

    best = BestWeights()
    recent: list[float] = []
    while run.step < total and run.progress() < 1.0:
        model.train()
        for group in opt.param_groups:
            group["lr"] = run.learning_rate(lr, warmup_steps)
        x, y = random_windows(train_tokens, batch_size, gen)
        value = loss(model, x, y)
        opt.zero_grad(set_to_none=True)
        value.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        recent = (recent + [value.item()])[-50:]
        epoch = run.step * tokens_per_step // max(1, total_tokens)
        run.advance(epoch, loss=value.item(), lr=opt.param_groups[0]["lr"])
        if run.step % eval_every == 0:
            val = nll_per_token(model, val_tokens)
            run.log(epoch=epoch, val_nll=val, unigram_nll=unigram)
            best.offer(model, val, run.step)
            write_sample(run.step)
    val = nll_per_token(model, val_tokens)
    run.log(epoch=run.step * tokens_per_step // max(1, total_tokens), val_nll=val, unigram_nll=unigram)
    if run.step % eval_every:  # the last step's sample, unless the loop just wrote it
        write_sample(run.step)
    kept_step = best.restore_if_better(model, val, run.step)  # the best step's sample is already on disk
    if kept_step != run.step:
        val = best.loss
    run.close()
    model.eval()
    model.save_pretrained(out_dir, max_shard_size=MAX_SHARD_SIZE)
    summary = {
        "id": MODEL_ID, "title": TITLE, "description": DESCRIPTION,
        "tags": ["music", "symbolic-music", "bach-chorales", "gpt2", "text-generation"],
        "datasets": ["music21 Bach chorales"],
        "data": (f"{len(chorales)} four-voice 4/4 chorales from music21's Bach corpus, transposed to "
                 f"C major / A minor: {len(train_set)} train ({total_tokens:,} tokens), {len(val_set)} held out "
                 f"({sum(len(t) for t in val_tokens):,} tokens), chosen by a hash of each chorale's name"),
        "command": invocation(), "config": {**PRESETS[preset], "vocab_size": len(VOCAB), "window_bars": WINDOW_BARS,
                                            "dropout": dropout, "voice_ranges": ranges},
        "parameters": n_params, "steps": run.step, "kept_step": kept_step,
        "epochs": round(run.step * tokens_per_step / max(1, total_tokens), 2), "batch_size": batch_size,
        "seed": seed, "minutes": run.elapsed / 60, "lr": lr,
        "final_losses": {"val_nll_per_note_token": val, "unigram_nll_per_note_token": unigram,
                         "ratio_to_unigram": val / unigram, "last_steps_train_loss": sum(recent) / max(1, len(recent))},
        "limits": ("Writes chorale-like four-part harmony on an eighth-note grid, in C major or A minor (the app "
                   "transposes it). It has seen about 300 chorales: it learns voice ranges, chords and cadence "
                   "shapes, not the long-range form of a chorale; phrases wander and endings are not planned. "
                   "Sixteenth notes, fermatas and lyrics are not in its vocabulary."),
    }
    write_openings(out_dir, val_set)
    write_summary(out_dir, summary)
    write_card(out_dir)
    return summary


def write_openings(out_dir, chorales, bars: int = 2) -> None:
    """``openings.json``: the first bars of the held-out chorales, for the app's "continue a real chorale"."""
    entries = [{"label": c.label, "name": c.name, "mode": c.mode, "original_key": c.original_key,
                "tokens": [VOCAB[t] for t in c.opening(bars)]} for c in chorales]
    (Path(out_dir) / "openings.json").write_text(json.dumps(entries, indent=1) + "\n")


def write_card(out_dir) -> None:
    """README.md in the Hugging Face model-card convention, from training.json and, if measured, scores.json."""
    out_dir = Path(out_dir)
    t = json.loads((out_dir / "training.json").read_text())
    f = t["final_losses"]
    # The Hub's task: the model is a causal language model over note tokens, so "text-generation" says what it
    # does; the sound is made afterwards by genai_demo/music.py, so "text-to-audio" would claim a text prompt and
    # audio out, neither of which the model has.
    lines = card_front_matter(out_dir, t, library_name="transformers", pipeline_tag="text-generation", datasets=[],
                              eval_dataset=("music21-bach-chorales", "Bach chorales (music21 corpus)"))
    lines += [
        "", f"# {t['title']}", "", t["description"], "",
        "The chorales come from the corpus bundled with the music21 package (`music21.corpus`), which has no "
        "Hugging Face Hub dataset id: this card therefore lists no `datasets`, and its figures name the data "
        "`music21-bach-chorales`.", "",
        "The token encoding (four voices on an eighth-note grid, a bar token every 33 tokens, key normalised) is "
        "described in `genai_demo/data/chorales.py`; `config.json` carries the vocabulary (`chorale_vocab`) and each "
        "voice's range (`voice_ranges`).", "",
        "## Use", "",
        "`python -m genai_demo generate audio/chorale --set num_bars=8 --out out/` writes `.mid`, `.wav` and a piano "
        "roll; or load it with `transformers.GPT2LMHeadModel.from_pretrained(\"weights/audio-chorale\")`.", "",
        "## How it was made", "",
        f"- Data: {t['data']}",
        f"- Command: `{t['command']}`",
        f"- Config: `{json.dumps(t['config'])}` ({t['parameters']:,} parameters)",
        f"- Training: {t['steps']:,} steps of {t['batch_size']} windows of up to 12 bars (at most {t['epochs']} passes over the training "
        f"tokens), AdamW lr {t['lr']} with warm-up and cosine decay, seed {t['seed']}, {t['minutes']:.1f} minutes on "
        f"{t['threads']} CPU thread(s) (torch {t['torch']}), while other work shared the 2-core machine"
        + (f"; {t['note']}" if t.get("note") else "")
        + (f"; the weights of step {t['kept_step']:,} were kept, where the held-out loss was lowest"
           if t.get("kept_step", t["steps"]) != t["steps"] else ""),
        f"- Held-out negative log-likelihood per note token (pitch, hold or rest; bar tokens not counted): "
        f"**{f['val_nll_per_note_token']:.4f} nats**, against {f['unigram_nll_per_note_token']:.4f} for a unigram "
        f"model of the training tokens: ratio **{f['ratio_to_unigram']:.3f}**"
        + (" (the same held-out chorales chose the kept step, a small selection bias)"
           if t.get("kept_step", t["steps"]) != t["steps"] else " (the last step's weights)"),
        "- Loss log: `train_log.jsonl`; samples written during training (4 bars, fixed seed; tokens and piano roll): `samples/`",
        "",
    ]
    lines += card_tail(out_dir, "`python bench/audio_bench.py --write-card`", t["limits"])
    (out_dir / "README.md").write_text("\n".join(lines))
