#!/usr/bin/env python
"""Save the README screenshot: the page after generating 16 GAN digits (digit "any", default seed).

    python scripts/screenshot.py [--out docs/screenshot.png] [--width 1280] [--height 900]

Starts ``python app.py`` on a free port of 127.0.0.1 (with the shipped weights in weights/, or those in
$GENAI_WEIGHTS_DIR), drives Debian's Chromium (/usr/bin/chromium, or $CHROMIUM) through Playwright, saves the
top of the page (title, model controls, gallery) as a PNG and stops the app. Needs no network.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_http(url: str, proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the app exited with code {proc.returncode} before answering")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")


def capture(url: str, out: Path, width: int, height: int, chromium: str, timeout_ms: int) -> None:
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=timeout_ms)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.set_default_timeout(timeout_ms)
            page.goto(url)
            # The Image tab's model playground: the row with the "Model" radio (the tab also holds a comparison
            # section with its own Seed and Digit fields, so every control is looked up inside this row).
            model_radio = page.locator("fieldset").filter(has=page.get_by_text("Model", exact=True))
            ui = page.locator("div.row").filter(has=model_radio)
            expect(ui).to_have_count(1)
            expect(model_radio.get_by_role("radio", name="GAN: image/gan")).to_be_checked()
            if ui.get_by_text("Unavailable:").filter(visible=True).count():
                raise RuntimeError("the GAN says it is unavailable: are its weights in weights/image-gan/?")
            # The defaults are what the README describes: 16 images, any digit, seed 0. Say so rather than assume.
            ui.get_by_label("Number of images", exact=True).fill("16")
            expect(ui.get_by_label("Digit", exact=True)).to_have_value("any")
            seed = ui.get_by_label("Seed", exact=True).input_value()
            ui.get_by_role("button", name="Generate", exact=True).click()

            output_label = page.get_by_test_id("block-label").filter(has_text=re.compile(r"^\s*Output\s*$"))
            gallery = ui.locator(".block.genai-gallery").filter(has=output_label)
            expect(gallery).to_have_count(1)
            expect(gallery.get_by_role("button", name="Thumbnail 16 of 16")).to_be_visible()
            expect(ui.get_by_test_id("markdown").and_(ui.locator(".genai-info"))).to_have_text(
                re.compile(rf"^\s*image/gan · seed {re.escape(seed)} · 16 images"))
            page.wait_for_function(
                "imgs => imgs.length === 16 && imgs.every(i => i.complete && i.naturalWidth > 0)",
                arg=gallery.locator("img").element_handles())
            page.evaluate("document.fonts.ready")
            page.mouse.move(0, 0)  # no hover highlight on a thumbnail
            page.wait_for_timeout(500)  # let the gallery's fade-in finish
            # From the top of the page to just below the playground: title, tabs, controls and the generated digits.
            # (in page coordinates: filling a field may have scrolled the viewport)
            bottom = ui.evaluate("e => Math.min(e.getBoundingClientRect().bottom + window.scrollY + 16,"
                                 " document.documentElement.scrollHeight)")
            out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(out), full_page=True, animations="disabled",
                            clip={"x": 0, "y": 0, "width": width, "height": bottom})
        finally:
            browser.close()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshot.png")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=900)
    parser.add_argument("--chromium", default=os.environ.get("CHROMIUM", "/usr/bin/chromium"))
    parser.add_argument("--timeout", type=float, default=120, help="seconds to wait for the app and for generation")
    args = parser.parse_args(argv)

    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1"}
    with tempfile.TemporaryFile("w+") as log:
        proc = subprocess.Popen([sys.executable, "app.py", "--host", "127.0.0.1", "--port", str(port)], cwd=ROOT,
                                stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            wait_for_http(url, proc, args.timeout)
            capture(url, args.out, args.width, args.height, args.chromium, int(args.timeout * 1000))
        except BaseException:
            log.seek(0)
            sys.stderr.write("--- app log (last 3000 characters) ---\n" + log.read()[-3000:])
            raise
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    print(f"saved {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
