"""The pictures written for the page: once per result whoever asks, served by Gradio from where they are."""

from __future__ import annotations

import threading

import pytest
from PIL import Image

from genai_demo import export
from genai_demo.contract import Result


def digits(n: int, shade: int) -> list:
    return [Image.new("L", (28, 28), color=(shade + 7 * i) % 256) for i in range(n)]


def counting_writes(monkeypatch) -> list:
    written = []
    real = export._write_whole

    def write_whole(path, write):
        written.append(path)
        real(path, write)

    monkeypatch.setattr(export, "_write_whole", write_whole)
    return written


def test_a_result_followed_by_a_whole_class_is_written_once(monkeypatch):
    """Thirty visitors following one computation get the same result objects: each step's pictures and the finished
    gallery are written once, and every visitor is shown the same files."""
    written = counting_writes(monkeypatch)
    step = Result(images=digits(3, 11), captions=["step 1 of 4"] * 3, done=False)
    final = Result(images=digits(3, 12), captions=["2"] * 3, info={"model": "image/test", "seed": 41})
    shown: list[list] = []

    def visitor():
        shown.append([export.page_gallery(step, ["step 1 of 4"] * 3), export.page_gallery(final, ["digit 2"] * 3)])

    threads = [threading.Thread(target=visitor) for _ in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(shown) == 30 and all(s == shown[0] for s in shown)
    step_files, final_files = shown[0]
    assert len(written) == 6  # three pictures each
    assert len({p for p, _ in step_files}) == 3 and [c for _, c in final_files] == ["digit 2"] * 3
    with Image.open(final_files[0][0]) as png:  # the finished gallery's PNGs carry their settings
        assert '"seed": 41' in png.info["genai_demo"]
    with Image.open(step_files[1][0]) as png:  # a step's picture is the enlarged digit
        assert png.size == (112, 112) and png.getpixel((0, 0)) == 18


def test_another_language_or_another_result_gets_its_own_files(monkeypatch):
    written = counting_writes(monkeypatch)
    step = Result(images=digits(2, 90), captions=["x", "x"], done=False)
    english = export.page_gallery(step, ["step 1", "step 1"])
    korean = export.page_gallery(step, ["1단계", "1단계"])
    assert [c for _, c in korean] == ["1단계", "1단계"] and [p for p, _ in korean] == [p for p, _ in english]
    other = export.page_gallery(Result(images=digits(2, 91), captions=["x", "x"], done=False), ["y", "y"])
    assert {p for p, _ in other}.isdisjoint(p for p, _ in english)
    assert len(written) == 4  # the same pixels are one file, whatever their caption


def test_the_page_serves_the_pictures_in_place():
    """Gradio serves the picture folder as it is (no per-update path check and copy into its cache)."""
    from gradio.data_classes import _StaticFiles
    from gradio.utils import is_static_file

    from genai_demo.ui.image_tab import serve_pictures_in_place

    serve_pictures_in_place()
    step = export.page_gallery(Result(images=digits(1, 5), done=False), ["a"])
    final = export.page_gallery(Result(images=digits(1, 6), info={"model": "image/test", "seed": 1}), ["b"])
    assert is_static_file(step[0][0]) and is_static_file(final[0][0])
    elsewhere = export.scratch_dir("downloads") / "x.png"
    Image.new("L", (2, 2)).save(elsewhere)
    assert not is_static_file(str(elsewhere))  # only those two folders
    # Checked first, before the icons Gradio lists on import: a picture's check resolves one folder, not three.
    assert _StaticFiles.all_paths[0] == export.scratch_dir("pictures").resolve()
    serve_pictures_in_place()  # a second page in the same process (tests, reloads) lists it once
    assert _StaticFiles.all_paths.count(export.scratch_dir("pictures").resolve()) == 1


def test_the_picture_gallery_sends_what_gradios_gallery_sends():
    import gradio as gr

    from genai_demo.ui.image_tab import PictureGallery

    files = export.page_gallery(Result(images=digits(3, 8), info={"model": "image/test", "seed": 1}), list("abc"))
    ours, gradios = PictureGallery(format="png"), gr.Gallery(format="png")
    assert ours.postprocess(files).model_dump() == gradios.postprocess(files).model_dump()
    assert len(ours.postprocess(files).root) == 3
    pil = [(im, "x") for im in digits(2, 9)]  # anything else: Gradio's own way (written into its cache)
    assert [g.image.path.endswith(".png") for g in ours.postprocess(pil).root] == [True, True]
    assert ours.get_block_name() == "gallery"  # the page draws it with Gradio's gallery
    assert ours.postprocess(None).root == [] and ours.postprocess([]).root == []


def test_old_pictures_are_pruned_and_the_oldest_beyond_the_cap(tmp_path):
    import os
    import time

    for i in range(5):
        (tmp_path / f"{i}.png").write_bytes(b"x")
        os.utime(tmp_path / f"{i}.png", (time.time() - 100 * i, time.time() - 100 * i))
    export.prune(tmp_path, keep_seconds=250, keep_files=2)  # 3 and 4 are too old; of 0-2, the oldest is one too many
    assert sorted(p.name for p in tmp_path.iterdir()) == ["0.png", "1.png"]
    export.prune(tmp_path / "gone", keep_seconds=0)  # a folder removed meanwhile: nothing to do


def test_the_janitor_prunes_the_picture_folders_in_the_background(monkeypatch, tmp_path):
    import time

    monkeypatch.setattr(export, "PRUNE_EVERY", 0.05)
    monkeypatch.setattr(export, "_kept", {})
    monkeypatch.setattr(export, "_janitor", None)  # a janitor of this test's own, which reads the short interval
    (tmp_path / "old.png").write_bytes(b"x")
    export.keep_pruned(tmp_path, keep_seconds=0)
    assert export._janitor.name == "picture-janitor" and export._janitor.daemon
    deadline = time.time() + 10
    while (tmp_path / "old.png").exists() and time.time() < deadline:
        time.sleep(0.02)
    assert not (tmp_path / "old.png").exists()
    # Writing the page's pictures only hands the folders to the janitor: no request lists a folder itself.
    monkeypatch.setattr(export, "PRUNE_EVERY", 3600.0)
    time.sleep(0.2)  # the janitor is asleep for an hour now
    monkeypatch.setattr(export, "prune", lambda *a: pytest.fail("pruned on the request's thread"))
    export.page_gallery(Result(images=digits(2, 17), done=False), ["a", "b"])
    export.page_gallery(Result(images=digits(1, 18), info={"model": "image/test", "seed": 1}), ["c"])
    assert set(export._kept) == {tmp_path, export.picture_dir("frames"), export.picture_dir("png")}


def test_a_gallery_png_is_compressed_lightly_and_keeps_its_pixels(tmp_path):
    """The page's PNGs are written by the server's one interpreter, 16 per GAN request: zlib level 1 (under half the
    default's time for a GAN's digit), the same pixels and settings."""
    big = digits(1, 7)[0].resize((112, 112), Image.NEAREST)
    export.png_with_metadata(big, tmp_path / "light.png", {"model": "image/test", "seed": 7})
    big.save(tmp_path / "default.png", format="PNG")
    with Image.open(tmp_path / "light.png") as light, Image.open(tmp_path / "default.png") as default:
        assert light.tobytes() == default.tobytes() and '"seed": 7' in light.info["genai_demo"]

    def pixel_data(name: str) -> bytes:  # the (one) IDAT chunk: its 4-byte length comes before its name
        data = (tmp_path / name).read_bytes()
        at = data.index(b"IDAT")
        return data[at + 4 : at + 4 + int.from_bytes(data[at - 4 : at], "big")]

    light, default = pixel_data("light.png"), pixel_data("default.png")
    assert light[:2] == b"\x78\x01" and default[:2] != light[:2]  # zlib's header: level 1 says "fastest"
