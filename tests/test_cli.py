"""The command line, run as a user runs it: a subprocess, its files, its exit status and its one-line errors."""

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from tests.conftest import ROOT


def cli(*args, weights=None):
    cmd = [sys.executable, "-m", "genai_demo", *(["--weights-dir", str(weights)] if weights else []), *args]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_list_shows_every_model_with_its_parameters(tiny_weights):
    out = cli("list", weights=tiny_weights)
    assert out.returncode == 0, out.stderr
    assert "image/gan  [image, GAN]" in out.stdout and "image/vae  [image, VAE]" in out.stdout
    assert "truncation           a number from 0 to 2 (default 1.0)" in out.stdout
    assert "num_images           an integer from 1 to 64 (default 16)" in out.stdout


def test_list_json_marks_unavailable_models_with_reason(tmp_path):
    out = cli("list", "--json", weights=tmp_path)
    models = {m["id"]: m for m in json.loads(out.stdout)}
    from genai_demo.registry import ADAPTERS

    assert set(models) == {cls.id for cls in ADAPTERS}
    assert models["image/gan"]["available"] is False
    assert "python -m genai_demo train image/gan" in models["image/gan"]["reason"]
    assert [p["name"] for p in models["image/vae"]["params"]] == ["seed", "num_images", "label", "temperature"]


def test_generate_writes_pngs_and_npz_and_is_reproducible(tmp_path, tiny_weights):
    runs = []
    for name in ("a", "b"):
        out = cli("generate", "image/gan", "--seed", "5", "--num", "6", "--set", "label=4", "--set", "truncation=0.7",
                  "--out", str(tmp_path / name), weights=tiny_weights)
        assert out.returncode == 0, out.stderr
        assert "image/gan: 7 file(s)" in out.stdout and "seed 5" in out.stdout
        runs.append(np.load(tmp_path / name / "samples.npz"))
    images, labels = runs[0]["images"], runs[0]["labels"]
    assert images.shape == (6, 28, 28) and images.dtype == np.uint8
    assert labels.tolist() == [4] * 6 and labels.dtype == np.int64
    assert np.array_equal(images, runs[1]["images"])
    png = Image.open(tmp_path / "a" / "image_002.png")
    assert np.array_equal(np.asarray(png), images[2])
    meta = json.loads(png.text["genai_demo"])
    assert meta["params"] == {"seed": 5, "num_images": 6, "label": "4", "truncation": 0.7}
    assert "AI-generated" in png.text["Description"]


def test_generate_with_label_any_records_minus_one(tmp_path, tiny_weights):
    out = cli("generate", "image/vae", "--num", "3", "--out", str(tmp_path), weights=tiny_weights)
    assert out.returncode == 0, out.stderr
    assert np.load(tmp_path / "samples.npz")["labels"].tolist() == [-1, -1, -1]


@pytest.mark.parametrize("args,message", [
    (["generate", "image/gan", "--num", "0"], "error: num_images=0 is out of range: expected an integer from 1 to 64"),
    (["generate", "image/gan", "--seed", "abc"], "error: seed='abc' is not a number"),
    (["generate", "image/gan", "--set", "truncation=nan"], "error: truncation='nan' is not a finite number"),
    (["generate", "image/gan", "--set", "label=eleven"], "error: label='eleven' is not a known choice"),
    (["generate", "image/gan", "--set", "temperature=1"], "error: image/gan has no parameter temperature"),
    (["generate", "image/gan", "--set", "truncation"], "error: --set expects NAME=VALUE"),
    (["generate", "image/dalle"], "error: unknown model 'image/dalle'; known models: image/gan, image/vae, image/"),
    (["train", "image/dalle", "--out", "x"], "error: no training command for 'image/dalle'"),
])
def test_bad_input_is_one_line_on_stderr_and_exit_2(tiny_weights, args, message):
    out = cli(*args, weights=tiny_weights)
    assert out.returncode == 2
    assert out.stderr.strip().startswith(message), out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr


def test_missing_weights_is_one_line_with_the_training_command(tmp_path):
    out = cli("generate", "image/vae", "--out", str(tmp_path / "o"), weights=tmp_path)
    assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1
    assert "image/vae is unavailable: weights not found" in out.stderr and "python -m genai_demo train image/vae" in out.stderr


def test_train_dry_run_saves_a_checkpoint(tmp_path, mnist_dir):
    out = cli("train", "image/vae", "--data-dir", str(mnist_dir), "--out", str(tmp_path / "vae"), "--preset", "tiny",
              "--dry-run")
    assert out.returncode == 0, out.stderr
    assert "saved image/vae" in out.stdout and "after 3 steps" in out.stdout
    assert (tmp_path / "vae" / "model.safetensors").is_file()
    card = (tmp_path / "vae" / "README.md").read_text()
    assert "python -m genai_demo train image/vae --data-dir" in card


def test_train_with_missing_data_is_one_line(tmp_path):
    out = subprocess.run([sys.executable, "-m", "genai_demo", "train", "image/gan", "--data-dir", str(tmp_path / "none"),
                          "--out", str(tmp_path / "o")], cwd=ROOT, capture_output=True, text=True, timeout=60,
                         env={**__import__("os").environ, "GENAI_OFFLINE": "1"})
    assert out.returncode == 2 and "no MNIST files" in out.stderr and "Traceback" not in out.stderr
