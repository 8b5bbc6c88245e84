"""Screenshot the explorer on the shipped default NLA and time one token explanation.

    .venv/bin/python scripts/explorer_screenshot.py --dataset runs/default_eval.parquet --out docs/explorer.png

Needs Debian's chromium + chromium-driver and the `serve` and `test` extras (scripts/setup.sh installs them).
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
import urllib.request
from pathlib import Path

import uvicorn
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from nlakit.app.serve.app import create_app
from nlakit.app.serve.browser import headless_chromium
from nlakit.core.config import ServeConfig
from nlakit.core.nla import NLA

TEXT = "Once upon a time, a little fox lived at the edge of a quiet forest. Every morning she"


def post(port: int, path: str, body: dict) -> dict:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", json.dumps(body).encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=300) as response:
        return json.load(response)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nla", default="default")
    parser.add_argument("--dataset", type=Path, default=None, help="explained parquet (enables search)")
    parser.add_argument("--out", type=Path, default=Path("docs/explorer.png"))
    parser.add_argument("--port", type=int, default=8766)
    args = parser.parse_args()

    app = create_app(NLA.load(args.nla), ServeConfig(dataset=args.dataset))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=args.port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)

    tokens = post(args.port, "/api/tokenize", {"text": TEXT})["tokens"]
    latencies = []
    for index in (5, 9, 14):
        start = time.perf_counter()
        post(args.port, "/api/explain", {"text": TEXT, "index": index})
        latencies.append(time.perf_counter() - start)
    print(json.dumps({"tokens": len(tokens), "explain_latency_s": latencies, "median_s": statistics.median(latencies)}))

    driver = headless_chromium()
    try:
        wait = WebDriverWait(driver, 300)
        find = lambda css: driver.find_element(By.CSS_SELECTOR, css)  # noqa: E731
        driver.get(f"http://127.0.0.1:{args.port}/")
        wait.until(lambda d: "layer" in find("#info").text)
        find("#text").clear()
        find("#text").send_keys(TEXT)
        find("#run").click()
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#tokens .tok")) > 14)
        driver.find_elements(By.CSS_SELECTOR, "#tokens .tok")[14].click()
        wait.until(lambda d: "FVE" in find("#score").text)
        find("#sample-more").click()
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#samples .sample")) >= 2)
        if args.dataset:
            find("#search-q").send_keys("museum")
            find("#search-go").click()
            wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#search-results tr")) > 1)
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(1400, min(int(height) + 140, 3000))
        args.out.parent.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(args.out))
        print(f"screenshot written to {args.out}")
    finally:
        driver.quit()
        server.should_exit = True


if __name__ == "__main__":
    main()
