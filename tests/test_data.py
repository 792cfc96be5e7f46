"""The MNIST loader: any subset of the four standard files, corrupt files, and checked downloads."""

import hashlib
import http.server
import threading
import time

import numpy as np
import pytest

from genai_demo.data import mnist
from genai_demo.data.mnist import MNISTError, load_mnist, read_idx
from tests.conftest import synthetic_digits, write_idx


def test_reads_the_test_split_alone(mnist_dir):
    data = load_mnist(mnist_dir, download_missing=False)
    assert data.splits == ("test",)
    assert data.images.shape == (300, 28, 28) and data.images.dtype == np.uint8
    assert data.labels.shape == (300,) and set(data.labels.tolist()) <= set(range(10))
    expected_images, expected_labels = synthetic_digits(300)
    assert np.array_equal(data.images, expected_images) and np.array_equal(data.labels, expected_labels)


def test_reads_both_splits_and_a_chosen_split(tmp_path):
    for split, n, seed in (("train", 50, 1), ("t10k", 20, 2)):
        images, labels = synthetic_digits(n, seed)
        write_idx(tmp_path / f"{split}-images-idx3-ubyte.gz", images)
        write_idx(tmp_path / f"{split}-labels-idx1-ubyte.gz", labels)
    assert len(load_mnist(tmp_path, download_missing=False)) == 70
    assert len(load_mnist(tmp_path, "train", download_missing=False)) == 50
    assert load_mnist(tmp_path, "test", download_missing=False).splits == ("test",)


def test_missing_files_offline_is_one_clear_error(tmp_path):
    with pytest.raises(MNISTError, match="no MNIST files in .*pass --data-dir"):
        load_mnist(tmp_path, download_missing=False)


def test_corrupt_and_mismatched_files_are_clear_errors(tmp_path):
    (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes(b"not gzip at all")
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.zeros(5, np.uint8))
    with pytest.raises(MNISTError, match="not a readable IDX file"):
        load_mnist(tmp_path, download_missing=False)
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", np.zeros((4, 28, 28), np.uint8))
    with pytest.raises(MNISTError, match="do not match"):
        load_mnist(tmp_path, download_missing=False)
    bad_header = tmp_path / "x.idx"
    bad_header.write_bytes(b"\x00\x00\x08\x01\x00\x00\x00\x09abc")
    with pytest.raises(MNISTError, match="header says"):
        read_idx(bad_header)


@pytest.fixture
def mirror(tmp_path):
    """A local HTTP server standing in for an MNIST mirror."""
    served = tmp_path / "served"
    served.mkdir()
    images, labels = synthetic_digits(40, 3)
    for split in ("train", "t10k"):
        write_idx(served / f"{split}-images-idx3-ubyte.gz", images)
        write_idx(served / f"{split}-labels-idx1-ubyte.gz", labels)
    handler = lambda *a, **k: http.server.SimpleHTTPRequestHandler(*a, directory=str(served), **k)  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.RequestHandlerClass.log_message = lambda *a: None
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield served, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


def test_download_checks_the_checksum_and_then_loads(tmp_path, mirror, monkeypatch):
    served, url = mirror
    md5 = {f.name: hashlib.md5(f.read_bytes()).hexdigest() for f in served.iterdir()}
    monkeypatch.setattr(mnist, "MIRRORS", (url,))
    monkeypatch.setattr(mnist, "MD5", md5)
    data = load_mnist(tmp_path / "cache")
    assert data.splits == ("train", "test") and len(data) == 80
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == sorted(md5)


def test_download_rejects_a_bad_checksum_and_an_unreachable_mirror(tmp_path, mirror, monkeypatch):
    served, url = mirror
    monkeypatch.setattr(mnist, "MIRRORS", (url, "http://127.0.0.1:9/"))  # port 9 (discard) refuses at once
    monkeypatch.setattr(mnist, "MD5", {f.name: "0" * 32 for f in served.iterdir()})
    started = time.perf_counter()
    with pytest.raises(MNISTError) as e:
        load_mnist(tmp_path / "cache")
    assert "checksum mismatch" in str(e.value) and "127.0.0.1:9" in str(e.value)
    assert time.perf_counter() - started < 10
    assert not list((tmp_path / "cache").glob("*.gz"))  # nothing unverified is kept
