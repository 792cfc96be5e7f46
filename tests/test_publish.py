"""``python -m genai_demo publish``: the dry run writes exactly the model repos and the Space that would be pushed;
a push without the Hub, or with a file the Hub would refuse, stops at once with one line and exit status 2."""

from __future__ import annotations

import time
from pathlib import Path

from huggingface_hub import ModelCard

from tests.conftest import ROOT
from tests.test_cli import cli

WEIGHTS = ROOT / "weights"
LIMIT = 10 * 1024 * 1024


def files_under(folder: Path) -> set[str]:
    """Every file below ``folder`` as a relative path, without caches and compiled files."""
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}


def one_line_error(out) -> str:
    assert out.returncode == 2, (out.stdout, out.stderr)
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), out.stderr
    return lines[0]


def test_dry_run_writes_every_model_repo_and_the_space(tmp_path):
    out_dir = tmp_path / "publish"
    out = cli("publish", "--dry-run", str(out_dir), "--namespace", "someone")
    assert out.returncode == 0, out.stderr
    assert "someone/image-gan" in out.stdout and " repositories, " in out.stdout

    folders = sorted(p for p in WEIGHTS.iterdir() if p.is_dir())
    models = out_dir / "models"
    assert {p.name for p in models.iterdir()} == {f.name for f in folders}
    for folder in folders:
        published = models / folder.name
        assert files_under(published) == files_under(folder), folder.name
        assert any(name.endswith(".safetensors") for name in files_under(published)), folder.name
        card = ModelCard.load(published / "README.md")
        assert card.data.model_name == folder.name and card.data.eval_results

    space = out_dir / "space"
    published = files_under(space)
    assert {"app.py", "requirements.txt", "README.md", "genai_demo/registry.py", "genai_demo/publish.py"} <= published
    assert {f"genai_demo/{name}" for name in files_under(ROOT / "genai_demo")} <= published
    assert {f"weights/{name}" for name in files_under(WEIGHTS)} <= published
    assert {name for name in ("LICENSE", "docs/credits.md") if (ROOT / name).exists()} <= published
    assert not [n for n in published if n.split("/")[0] in ("tests", "bench", ".git", "scripts", "build")]
    from huggingface_hub import SpaceCard

    card = SpaceCard.load(space / "README.md").data  # the Space's card links the model repos under the namespace
    assert card.sdk == "gradio" and sorted(card.models) == sorted(f"someone/{f.name}" for f in folders)
    every_file = [p for p in out_dir.rglob("*") if p.is_file()]
    assert not [p for p in every_file if p.suffix == ".pyc" or "__pycache__" in p.parts]
    assert max(p.stat().st_size for p in every_file) <= LIMIT


def test_dry_run_refuses_a_file_over_10_mb_in_one_line(tmp_path):
    weights = tmp_path / "weights"
    (weights / "image-big").mkdir(parents=True)
    (weights / "image-big" / "README.md").write_text("---\nlicense: mit\n---\n# big\n")
    with open(weights / "image-big" / "model.safetensors", "wb") as f:
        f.truncate(LIMIT + 1)  # a sparse file: 10 MB + 1 byte on paper, nothing on disk
    out = cli("publish", "--dry-run", str(tmp_path / "out"), weights=weights)
    line = one_line_error(out)
    assert "model.safetensors is 10.5 MB" in line and "Git LFS" in line
    assert not (tmp_path / "out").exists()


def test_push_while_offline_fails_fast_in_one_line():
    started = time.perf_counter()
    out = cli("publish", "--namespace", "someone")  # conftest sets HF_HUB_OFFLINE=1
    assert "HF_HUB_OFFLINE" in one_line_error(out)
    assert time.perf_counter() - started < 20


def test_push_without_network_fails_fast_in_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setenv("HF_TOKEN", "hf_not_a_real_token")
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # the discard port: nothing listens there
    started = time.perf_counter()
    out = cli("publish", "--namespace", "someone")
    assert "cannot reach http://127.0.0.1:9" in one_line_error(out)
    assert time.perf_counter() - started < 20
