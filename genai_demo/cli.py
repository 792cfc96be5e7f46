"""Command line: ``genai-demo serve | list | generate | train | publish`` (or ``python -m genai_demo ...``).

Every option of ``generate`` comes from the model's declared parameters
(``--set NAME=VALUE``), checked by the same validation as the UI and the API.
Errors print one line on stderr and exit with status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from genai_demo.contract import GenAIError, ParameterError


def build_parser(prog: str = "genai-demo") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description="GenAI playground: serve the page, list, run and train models.")
    parser.add_argument("--weights-dir", help="folder holding each model's weights (default: $GENAI_WEIGHTS_DIR, else the weights shipped with the package)")
    parser.add_argument("--image-pipeline", metavar="HUB_ID_OR_FOLDER",
                        help="a diffusers pipeline to offer as image/hf (default: $GENAI_IMAGE_PIPELINE)")
    parser.add_argument("--image-pipeline-task", default="auto", choices=("auto", "unconditional", "text-to-image"))
    parser.add_argument("--text-model", metavar="HUB_ID_OR_FOLDER",
                        help="a transformers text-generation model to offer as text/hf (default: $GENAI_TEXT_MODEL)")
    parser.add_argument("--audio-model", metavar="HUB_ID_OR_FOLDER",
                        help="a transformers text-to-audio model to offer as audio/hf (default: $GENAI_AUDIO_MODEL)")
    sub = parser.add_subparsers(dest="command", required=True)

    # Only for the help text: `serve` hands everything after it to the server's own options (serve --help).
    sub.add_parser("serve", help="serve the page (as `python app.py`; `serve --help` lists its options)", add_help=False)

    p = sub.add_parser("list", help="every model, whether it is available, and its parameters")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")

    p = sub.add_parser("generate", help="run one model and save what it makes")
    p.add_argument("model_id", help="a model id from `list`, e.g. image/gan")
    p.add_argument("--seed", help="random seed (same seed + settings = same output)")
    p.add_argument("--num", dest="num_images", help="number of images (image models)")
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="any other parameter; repeatable")
    p.add_argument("--out", default="out", help="output folder (default: out)")

    p = sub.add_parser("train", help="train a model from scratch and save its weights")
    p.add_argument("target", help="image/gan, image/vae, image/diffusion, image/autoregressive, text/shakespeare or mnist-classifier")
    p.add_argument("--data-dir", help="folder with the data: MNIST .gz files (default: $GENAI_MNIST_DIR) or "
                        "tinyshakespeare.txt (default: $GENAI_SHAKESPEARE_DIR); downloaded when missing")
    p.add_argument("--out", help="where to save the weights (default: weights/<id>)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--lr", type=float)
    p.add_argument("--time-budget", type=float, help="stop after this many minutes (and still save)")
    p.add_argument("--max-steps", type=int, help="stop after this many optimiser steps")
    p.add_argument("--limit", type=int, help="use only the first N images (characters for text)")
    p.add_argument("--preset", default="base", help="model size: base (shipped) or tiny (tests)")
    p.add_argument("--dry-run", action="store_true", help="a few steps on a few images, to check that it runs")

    p = sub.add_parser("publish", help="push each weights folder as a model repo and the app as a Gradio Space")
    p.add_argument("--dry-run", metavar="DIR", help="write what would be pushed to DIR/models/ and DIR/space/ instead")
    p.add_argument("--namespace", help="Hub user or organisation (default: the logged-in user)")
    return parser


def cmd_list(registry, as_json: bool) -> int:
    models = [m.describe() for m in registry]
    if as_json:
        print(json.dumps(models, indent=2))
        return 0
    for m in models:
        state = "available" if m["available"] else f"UNAVAILABLE: {m['reason']}"
        print(f"{m['id']}  [{m['modality']}, {m['family']}]  {m['title']}\n  {state}")
        for p in registry.get(m["id"]).params:
            print(f"    {p.name:<20} {p.describe_range()} (default {p.default!r})")
    return 0


def parse_sets(pairs: list[str]) -> dict:
    params = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise ParameterError(f"--set expects NAME=VALUE, got {pair!r}")
        params[name.strip()] = value
    return params


def cmd_generate(registry, args) -> int:
    adapter = registry.get(args.model_id)
    params = parse_sets(args.set)
    for name in ("seed", "num_images"):
        if getattr(args, name) is not None:
            params[name] = getattr(args, name)
    result = adapter.generate(**params)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    saved = save_result(result, out)
    info = result.info
    print(f"{adapter.id}: {len(saved)} file(s) in {out} · seed {info['seed']} · {info['seconds'] * 1000:.0f} ms · "
          f"{info['parameters']:,} parameters" + (f" · on {info['device']}" if info.get("device") else ""))
    for note in info.get("notes") or ():
        print(f"note: {note}")
    return 0


def save_result(result, out: Path) -> list[Path]:
    """Write a result: one PNG per image (settings in its metadata) plus samples.npz; text.txt and
    next_tokens.json for text; the result's files (chorale.mid, chorale.wav) or audio.wav for sound; and info.json."""
    import numpy as np

    from genai_demo.export import download_files, png_with_metadata

    saved = []
    for i, image in enumerate(result.images):
        path = out / f"image_{i:03d}.png"
        png_with_metadata(image, path, result.info)
        saved.append(path)
    if result.images and result.audio is None:  # digits as arrays; a piece of music's picture is just its PNG
        np.savez(out / "samples.npz", images=np.stack([np.asarray(im, dtype=np.uint8) for im in result.images]),
                 labels=np.asarray(result.labels, dtype=np.int64))
        saved.append(out / "samples.npz")
    if result.text is not None:
        (out / "text.txt").write_text(result.text, encoding="utf-8")
        saved.append(out / "text.txt")
        if result.process:  # a text model's next-token candidates, one record per generated token
            (out / "next_tokens.json").write_text(json.dumps(result.process, indent=1, ensure_ascii=False) + "\n",
                                                  encoding="utf-8")
            saved.append(out / "next_tokens.json")
    for name, data in download_files(result).items():  # chorale.mid and chorale.wav, or audio.wav
        (out / name).write_bytes(data)
        saved.append(out / name)
    (out / "info.json").write_text(json.dumps(result.info, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return saved


def cmd_train(args) -> int:
    from genai_demo.train import get_trainer, weights_folder

    try:
        train = get_trainer(args.target)
    except KeyError as e:
        raise GenAIError(e.args[0]) from None
    import os

    from genai_demo.contract import _PACKAGED_WEIGHTS, DEFAULT_WEIGHTS_ROOT, WEIGHTS_ENV

    # An installed package does not train into its own folder: into ./weights, which --weights-dir then serves.
    root = args.weights_dir or os.environ.get(WEIGHTS_ENV) or (
        "weights" if DEFAULT_WEIGHTS_ROOT == _PACKAGED_WEIGHTS else DEFAULT_WEIGHTS_ROOT)
    out = args.out or str(Path(root) / weights_folder(args.target))
    kwargs = {k: getattr(args, k) for k in ("epochs", "batch_size", "lr", "max_steps", "limit") if getattr(args, k) is not None}
    if args.dry_run:
        kwargs.update(max_steps=3, limit=256)
    summary = train(args.data_dir, out, preset=args.preset, seed=args.seed,
                    time_budget=args.time_budget * 60 if args.time_budget else None, **kwargs)
    losses = ", ".join(f"{k} {v:.4f}" for k, v in summary["final_losses"].items())
    print(f"saved {args.target} to {out} after {summary['steps']} steps in {summary['minutes']:.1f} min ({losses})")
    return 0


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    from genai_demo.runtime import prefer_passive_waiting

    argv = sys.argv[1:] if argv is None else list(argv)
    prog = prog or Path(sys.argv[0]).name
    prog = "python -m genai_demo" if prog in ("__main__.py", "-m", "-c", "") else prog
    if argv[:1] == ["serve"]:
        from genai_demo.server import main as serve

        serve(argv[1:], prog=f"{prog} serve")
        return 0
    prefer_passive_waiting()
    args = build_parser(prog).parse_args(argv)
    try:
        if args.command == "train":
            return cmd_train(args)
        if args.command == "publish":
            from genai_demo.publish import publish

            return publish(args.dry_run, args.namespace, args.weights_dir)
        from genai_demo.registry import Registry

        registry = Registry(args.weights_dir, image_pipeline=args.image_pipeline,
                            image_pipeline_task=args.image_pipeline_task, text_model=args.text_model,
                            audio_model=args.audio_model)
        if args.command == "list":
            return cmd_list(registry, args.json)
        return cmd_generate(registry, args)
    except GenAIError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # data errors from training, disk full, ...: one line, not a traceback
        from genai_demo.data.mnist import MNISTError

        if isinstance(e, (MNISTError, OSError)):
            print(f"error: {e}", file=sys.stderr)
            return 2
        raise
