"""Faults: a visitor who leaves in the middle of a stream, and a disk that is full when saving."""

import errno
import time

import pytest
from gradio_client import Client

from genai_demo import cli


def test_a_cancelled_stream_stops_the_work(app_server):
    url, log = app_server
    client = Client(url, verbose=False)
    job = client.submit(seed=0, num_images=64, label="any", temperature=1.0, api_name="/image_autoregressive")
    deadline = time.time() + 120
    while not job.outputs() and time.time() < deadline:  # wait for the first rows to arrive
        time.sleep(0.1)
    assert job.outputs(), "no streamed output arrived"
    job.cancel()
    deadline = time.time() + 60
    while "image/autoregressive stopped after" not in log.read_text() and time.time() < deadline:
        time.sleep(0.2)
    assert "image/autoregressive stopped after" in log.read_text()
    updates = int(log.read_text().split("image/autoregressive stopped after ")[1].split()[0])
    assert updates < 28  # it did not run on to the last row
    gallery, _ = client.predict(seed=1, num_images=2, label="any", truncation=1.0, api_name="/image_gan")
    assert len(gallery) == 2  # and the server is free for the next visitor


def test_a_full_disk_when_saving_is_one_clear_line(tmp_path, tiny_weights, monkeypatch, capsys):
    from PIL import Image

    def no_space(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", no_space)
    code = cli.main(["--weights-dir", str(tiny_weights), "generate", "image/gan", "--num", "2", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and err.strip() == "error: [Errno 28] No space left on device"
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("weights", ["missing", "corrupt"])
def test_broken_weights_are_listed_as_unavailable_with_the_fix(tmp_path, tiny_weights, weights, capsys):
    import shutil

    shutil.copytree(tiny_weights, tmp_path, dirs_exist_ok=True)
    if weights == "missing":
        (tmp_path / "image-vae" / "model.safetensors").unlink()
    else:
        (tmp_path / "image-vae" / "model.safetensors").write_bytes(b"\x00" * 100)
    assert cli.main(["--weights-dir", str(tmp_path), "generate", "image/vae", "--out", str(tmp_path / "o")]) == 2
    assert cli.main(["--weights-dir", str(tmp_path), "list"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    status = lines[next(i for i, line in enumerate(lines) if line.startswith("image/vae ")) + 1]
    assert status.strip().startswith("UNAVAILABLE:") and "python -m genai_demo train image/vae" in status
