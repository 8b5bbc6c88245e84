"""The explorer: its JSON API on a tiny trained NLA (tokenize, explain, sample, steer, search and the
413/422/503 errors), the static `explain --html` page, and the page itself driven in headless Chromium."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

pytest.importorskip("fastapi", reason="the serve extra (fastapi, uvicorn) is not installed")
from fastapi.testclient import TestClient  # noqa: E402

from nlakit.app.cli import main  # noqa: E402
from nlakit.app.serve.app import create_app  # noqa: E402
from nlakit.app.serve.browser import CHROMEDRIVER, CHROMIUM, headless_chromium  # noqa: E402
from nlakit.core.config import EvaluateConfig, ServeConfig  # noqa: E402
from nlakit.core.metrics import RAWVAR, fve_rows, score_rows  # noqa: E402
from nlakit.core.nla import NLA  # noqa: E402
from nlakit.core.prompts import template_explanation  # noqa: E402
from nlakit.core.roundtrip import RoundTrip  # noqa: E402
from nlakit.readings.explain import to_html  # noqa: E402
from nlakit.stages.evaluate import run_evaluate  # noqa: E402

TEXT = "Alice: Did you bring the map?\nBob: Yes, it is in my bag."
FAST = ServeConfig(max_new_tokens=8)


@pytest.fixture(scope="module")
def nla_dir(sft_pair) -> Path:
    return sft_pair.nla


@pytest.fixture(scope="module")
def nla(nla_dir) -> NLA:
    return NLA.load(nla_dir)


@pytest.fixture(scope="module")
def explained(nla_dir, tiny_corpus, tmp_path_factory) -> Path:
    """A file written by `nlakit evaluate --save`. A 2-step AV writes only newlines, so its explanations
    are swapped for the template teacher's text of the same tokens, giving the search words to find."""
    path = tmp_path_factory.mktemp("explained") / "explained.parquet"
    run_evaluate(nla_dir, EvaluateConfig(texts=str(tiny_corpus), max_new_tokens=8, max_docs=4), save=path)
    table = pq.read_table(path)
    rows = table.select(["context", "genre", "next_tokens"]).to_pylist()
    texts = pa.array([template_explanation(r) for r in rows])
    pq.write_table(table.set_column(table.column_names.index("explanation"), "explanation", texts), path)
    return path


@pytest.fixture(scope="module")
def directions(tmp_path_factory) -> Path:
    from safetensors.numpy import save_file

    folder = tmp_path_factory.mktemp("directions")
    rng = np.random.default_rng(0)
    np.save(folder / "random.npy", rng.normal(size=64).astype(np.float32))
    save_file({"direction": rng.normal(size=(1, 64)).astype(np.float32)}, str(folder / "other.safetensors"))
    np.save(folder / "pickled.npy", np.array([{"not": "an array"}], dtype=object), allow_pickle=True)
    np.save(folder / "short.npy", np.ones(3, np.float32))
    (folder / "notes.txt").write_text("not a direction")
    return folder


@pytest.fixture(scope="module")
def client(nla, explained, directions):
    with TestClient(create_app(nla, replace(FAST, dataset=explained, directions=directions))) as test_client:
        yield test_client


def a_phrase(parquet: Path) -> str:
    """The most common word of 3+ letters in the saved explanations: a query that must match."""
    words = Counter(w for e in pq.read_table(parquet).column("explanation").to_pylist() for w in e.split() if len(w) >= 3 and w.isalnum())
    assert words, "the explained dataset has no words to search for"
    return words.most_common(1)[0][0]


def test_page_and_info_need_nothing_from_outside(client, nla):
    page = client.get("/")
    assert page.status_code == 200 and "nlakit explorer" in page.text
    assert "http://" not in page.text and "https://" not in page.text and "<script src" not in page.text
    info = client.get("/api/info").json()
    assert info["d_model"] == 64 and info["layer_index"] == 1 and info["search"] and info["chat_template"]
    assert info["baseline"] == RAWVAR and info["rawvar"] == pytest.approx(nla.meta.baselines[RAWVAR])  # every FVE names its baseline
    assert info["directions"] == ["other.safetensors", "pickled.npy", "random.npy", "short.npy"]
    assert client.get("/api/directions").json()["directions"] == info["directions"]
    assert client.get("/docs").status_code == 404  # swagger would load from a CDN


def test_tokenize_explain_sample_reuse_one_forward_pass(client, nla, monkeypatch):
    tokens = client.post("/api/tokenize", json={"text": TEXT}).json()["tokens"]
    assert len(tokens) > 5 and "".join(t["token"] for t in tokens) == TEXT
    explorer = client.app.state.explorer
    monkeypatch.setattr(explorer, "rows", lambda texts: pytest.fail("the cached activations were recomputed"))
    r = client.post("/api/explain", json={"text": TEXT, "index": 3}).json()
    assert r["token"] == tokens[3]["token"] and isinstance(r["explanation"], str)
    assert r["fve_nrm"] == pytest.approx(1 - r["mse_nrm"] / nla.baseline.value) and r["cos"] == pytest.approx(1 - r["mse_nrm"] / 2)
    assert r["activation_norm"] == pytest.approx(tokens[3]["activation_norm"])
    if not r["parsed"]:  # no closing tag: scored as a failure, as NLA.roundtrip does
        assert r["mse_nrm"] == 2.0
    assert client.post("/api/explain", json={"text": TEXT, "index": 3}).json() == r  # cached, greedy
    body = {"text": TEXT, "index": 3, "n": 3, "temperature": 0.8, "seed": 7}
    samples = client.post("/api/sample", json=body).json()["samples"]
    assert len(samples) == 3 and all(-1e9 < s["fve_nrm"] <= 1 and 0 <= s["mse_nrm"] <= 4 for s in samples)
    assert client.post("/api/sample", json=body).json()["samples"] == samples  # a seed reproduces a draw


def test_chat_prompt_is_rendered_with_the_template(client):
    r = client.post("/api/tokenize", json={"text": "hello there", "chat": True}).json()
    assert r["rendered"] == "<|im_start|>user\nhello there<|im_end|>\n<|im_start|>assistant\n"
    assert "hello" in "".join(t["token"] for t in r["tokens"])
    assert client.post("/api/explain", json={"text": "hello there", "chat": True, "index": 1}).status_code == 200


def test_steering_adds_the_unit_direction_times_the_norm(client):
    contrast = {"positive": ["I love this, it is wonderful.", "What a great day."], "negative": ["I hate this.", "What a sad day."]}
    still = client.post("/api/steer", json={"text": TEXT, "index": 4, "strength": 0.0, "contrast": contrast}).json()
    assert still["steered"]["explanation"] == still["original"]["explanation"]
    assert still["steered"]["activation_norm"] == pytest.approx(still["original"]["activation_norm"], rel=1e-5)
    moved = client.post("/api/steer", json={"text": TEXT, "index": 4, "strength": 1.5, "contrast": {**contrast, "reduce": "mean"}}).json()
    explorer = client.app.state.explorer
    vector = next(e for e in explorer.texts.values() if e.rendered == TEXT).vectors[4]
    direction = explorer.contrast(contrast["positive"], contrast["negative"], "mean")
    expected = vector + 1.5 * direction / np.linalg.norm(direction) * np.linalg.norm(vector)
    assert moved["steered"]["activation_norm"] == pytest.approx(float(np.linalg.norm(expected)), rel=1e-4)
    for key in ("fve_nrm", "cos", "toward_direction"):
        assert isinstance(moved["steered"][key], float) and isinstance(moved["original"][key], float)
    for name in ("random.npy", "other.safetensors"):
        saved = client.post("/api/steer", json={"text": TEXT, "index": 4, "strength": -1.0, "saved": name})
        assert saved.status_code == 200 and saved.json()["steered"]["explanation"] is not None


def test_bad_directions_are_refused(client):
    base = {"text": TEXT, "index": 4, "strength": 1.0}
    pickled = client.post("/api/steer", json={**base, "saved": "pickled.npy"})
    assert pickled.status_code == 422 and pickled.json()["error"] == "bad_direction"
    assert client.post("/api/steer", json={**base, "saved": "short.npy"}).status_code == 422
    for name in ("notes.txt", "../random.npy", "missing.npy"):
        assert client.post("/api/steer", json={**base, "saved": name}).status_code == 404
    both = client.post("/api/steer", json={**base, "saved": "random.npy", "contrast": {"positive": ["a b"], "negative": ["c d"]}})
    assert both.status_code == 422 and "exactly one" in both.json()["message"]
    same = client.post("/api/steer", json={**base, "contrast": {"positive": ["the same text"], "negative": ["the same text"]}})
    assert same.status_code == 422 and same.json()["error"] == "zero_direction"


def test_search_matches_explanations_with_a_bound_parameter(client, explained):
    phrase = a_phrase(explained)
    results = client.get("/api/search", params={"q": phrase.upper()}).json()["results"]
    assert results and all(phrase.lower() in r["explanation"].lower() for r in results)
    assert set(results[0]) == {"doc_id", "position", "token", "context", "explanation", "fve_nrm"}
    assert [r["fve_nrm"] for r in results] == sorted((r["fve_nrm"] for r in results), reverse=True)
    for hostile in ("' OR 1=1 --", "%", "_"):  # quotes reach DuckDB as data, wildcards are literal
        r = client.get("/api/search", params={"q": hostile})
        assert r.status_code == 200 and all(hostile in x["explanation"] for x in r.json()["results"])
    assert len(client.get("/api/search", params={"q": phrase, "limit": 1}).json()["results"]) == 1
    assert client.get("/api/search", params={"q": ""}).status_code == 422


def test_limits_and_validation_give_clear_json_errors(client):
    cases = [
        ({"text": "x" * 4001}, "/api/tokenize", 413, "text_too_long"),
        ({"text": " ".join(f"w{i}q" for i in range(400))}, "/api/tokenize", 413, "too_many_tokens"),
        ({"text": ""}, "/api/tokenize", 422, "validation"),
        ({"text": TEXT}, "/api/explain", 422, "validation"),
        ({"text": TEXT, "index": -1}, "/api/explain", 422, "validation"),
        ({"text": TEXT, "index": 10_000}, "/api/explain", 422, "bad_index"),
        ({"text": TEXT, "index": 0, "temperature": 0}, "/api/sample", 422, "validation"),
        ({"text": TEXT, "index": 0, "n": 99}, "/api/sample", 422, "validation"),
        ({"text": TEXT, "index": 0, "strength": 9, "saved": "random.npy"}, "/api/steer", 422, "validation"),
        ({"text": TEXT, "index": 0, "strength": 1, "contrast": {"positive": ["a"] * 17, "negative": ["b"]}}, "/api/steer", 413, "too_many_prompts"),
    ]
    for body, path, status, code in cases:
        r = client.post(path, json=body)
        assert (r.status_code, r.json()["error"]) == (status, code), (path, body, r.text)
        assert r.json()["message"]
    big = client.post("/api/tokenize", content=json.dumps({"text": "x" * 300_000}), headers={"content-type": "application/json"})
    assert big.status_code == 413 and big.json()["error"] == "body_too_large"
    assert client.post("/api/tokenize", content="not json", headers={"content-type": "application/json"}).status_code == 422


def test_full_queue_and_slow_model_answer_503(nla):
    release = threading.Event()
    with TestClient(create_app(nla, ServeConfig(max_new_tokens=8, max_waiting=0))) as busy:
        busy.app.state.worker.submit(release.wait)  # the only slot: the model is "running"
        r = busy.post("/api/tokenize", json={"text": TEXT})
        assert r.status_code == 503 and r.json()["error"] == "busy"
        release.set()
        time.sleep(0.2)
        assert busy.post("/api/tokenize", json={"text": TEXT}).status_code == 200
        assert busy.get("/api/search", params={"q": "x"}).json()["error"] == "no_dataset"
    release.clear()
    with TestClient(create_app(nla, ServeConfig(max_new_tokens=8, max_waiting=1, timeout_s=0.3))) as slow:
        slow.app.state.worker.submit(release.wait)
        r = slow.post("/api/tokenize", json={"text": TEXT})
        assert r.status_code == 503 and r.json()["error"] == "timeout"
        release.set()


# a transcript whose every token the scripted AV reads as bread, in an explanation carrying markup that must stay text
CHAT = [{"role": "user", "content": "What should we cook tonight?"},
        {"role": "assistant", "content": "Something warm, with a golden crust <i>fresh</i>."}]
HOSTILE = "dialogue; topic: bread, oven. <img src=x onerror=alert(1)>"
# what the Audit panel reads of each finding and of its evidence (index.html's runAudit, guardBadges and evidenceRow)
FINDING_KEYS = ("term", "kind", "n", "rate", "how", "passed", "guards", "evidence")
EVIDENCE_KEYS = ("token", "role", "position", "context", "explanation", "samples", "fve_nrm", "agreement")


def bread_everywhere(self, vectors, max_new_tokens=None, temperature=0.0, seed=None, on_batch=None) -> RoundTrip:
    """NLA.roundtrip with an AV that writes HOSTILE for every vector (a 2-step AV writes only newlines); the AR is the real one."""
    vectors = np.atleast_2d(np.asarray(vectors, np.float32))
    texts = [HOSTILE] * len(vectors)
    rebuilt = np.asarray(self.ar.reconstruct(texts), np.float32)
    mse = score_rows(rebuilt, vectors, self.ar.meta.resolved_mse_scale)
    ok = np.ones(len(texts), bool)
    return RoundTrip(vectors, texts, texts, rebuilt, mse, fve_rows(mse, self.baseline.value), np.zeros(len(texts)), ok, ~ok,
                     self.ar.meta.resolved_mse_scale, self.baseline)


def test_the_audit_panel_is_on_the_page_and_reads_what_the_endpoint_answers(nla, monkeypatch):
    monkeypatch.setattr(NLA, "roundtrip", bread_everywhere)
    with TestClient(create_app(nla, FAST)) as client:
        page = client.get("/").text
        for part in ('id="audit-box"', 'id="audit-text"', 'id="audit-concepts"', 'id="audit-select"', 'id="audit-go"',
                     'id="audit-results"', 'api("/api/audit", body)'):
            assert part in page, part
        assert "innerHTML" not in page and "insertAdjacentHTML" not in page  # untrusted text goes in as textContent only
        script = page.split("function auditBody", 1)[1].split("async function init", 1)[0]
        for key in FINDING_KEYS:
            assert f"f.{key}" in script, key
        for key in EVIDENCE_KEYS:
            assert f"e.{key}" in script, key
        answer = client.post("/api/audit", json={"messages": CHAT, "concepts": ["bread"], "samples": 2}).json()
    (finding,) = answer["findings"]
    assert finding["term"] == "bread" and set(FINDING_KEYS) <= set(finding) and finding["evidence"]
    assert set(EVIDENCE_KEYS) <= set(finding["evidence"][0]) and finding["evidence"][0]["explanation"] == HOSTILE
    assert set(finding["guards"]) >= {"min_fve", "agreement", "control"} and answer["note"]


def test_explain_html_is_self_contained_and_safe(nla, nla_dir, tmp_path):
    rows = nla.explain("Bob: hi </script> there", max_new_tokens=4)
    page = to_html(rows + [{**rows[0], "explanation": "</script><img src=x onerror=alert(1)>"}], "Bob: hi </script> there", nla.baseline.name)
    assert f"against the baseline {RAWVAR}" in page
    script = page.split("<script>", 1)[1]
    assert script.count("</script>") == 1 and "onerror" in script and "<img" not in script
    assert "<script src" not in page and "<link" not in page and page.count('class="tok"') == len(rows) + 1
    out = tmp_path / "out.html"
    main(["explain", "--nla", str(nla_dir), "--max-new-tokens", "4", "--json", "--html", str(out), "Bob: hello there"])
    assert "const ROWS=" in out.read_text()


def test_serve_command_binds_localhost_by_default(nla_dir, explained, directions, monkeypatch):
    import uvicorn

    seen = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(app=app, **kw))
    main(["serve", "--nla", str(nla_dir), "--dataset", str(explained), "--directions", str(directions)])
    assert (seen["host"], seen["port"]) == ("127.0.0.1", 8765)
    with TestClient(seen["app"], base_url="http://127.0.0.1:8765") as local:
        assert local.get("/api/info").json()["search"]
    with TestClient(seen["app"], base_url="http://evil.example") as rebound:
        assert rebound.get("/api/info").status_code == 400


CHROMIUM_ONLY = pytest.mark.skipif(not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
                                   reason="needs /usr/bin/chromium and /usr/bin/chromedriver (apt-get install -y chromium chromium-driver)")


@contextmanager
def explorer_in_chromium(app, profile: Path, port: int) -> Iterator:
    """(driver, wait) on the explorer page served by `app` under uvicorn on `port`; both stopped on the way out."""
    pytest.importorskip("selenium", reason="selenium is not installed (it is in the `test` extra)")
    import uvicorn
    from selenium.webdriver.support.ui import WebDriverWait

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    driver = None
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
            time.sleep(0.05)
        driver = headless_chromium(profile)
        driver.get(f"http://127.0.0.1:{port}/")
        yield driver, WebDriverWait(driver, 60)
    finally:
        if driver is not None:
            driver.quit()
        server.should_exit = True
        thread.join(10)


@pytest.mark.browser
@CHROMIUM_ONLY
def test_explorer_in_headless_chromium(nla, nla_dir, explained, directions, tmp_path, free_port):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    app = create_app(nla, ServeConfig(max_new_tokens=16, dataset=explained, directions=directions))
    with explorer_in_chromium(app, tmp_path / "profile", free_port) as (driver, wait):
        find = lambda css: driver.find_element(By.CSS_SELECTOR, css)  # noqa: E731
        wait.until(lambda d: "layer 1" in find("#info").text)
        assert f"FVE baseline: {RAWVAR}" in find("#info").text
        find("#text").clear()
        find("#text").send_keys(TEXT)
        find("#run").click()
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#tokens .tok")) > 5)
        driver.find_elements(By.CSS_SELECTOR, "#tokens .tok")[6].click()
        wait.until(lambda d: "FVE" in find("#score").text)
        assert find("#explanation").text and "reading" not in find("#explanation").text
        assert find("#tokens .tok.sel").value_of_css_property("background-color") != "rgba(238, 240, 244, 1)"  # coloured by FVE
        find("#sample-more").click()
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#samples .sample")) == 3)
        slider = find("#strength")
        for _ in range(3):
            slider.send_keys(Keys.ARROW_RIGHT)
        assert find("#strength-val").text == "0.8"
        wait.until(lambda d: "steered (+0.8)" in find("#steer-out").text)
        assert len(driver.find_elements(By.CSS_SELECTOR, "#steer-out .score")) == 2
        find("#search-q").send_keys(a_phrase(explained))
        find("#search-go").click()
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#search-results tr")) > 1)
        assert "match" in find("#search-results").text
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(1400, min(int(height) + 140, 3000))
        screenshot = tmp_path / "explorer.png"
        assert driver.save_screenshot(str(screenshot)) and screenshot.stat().st_size > 20_000
        assert not [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]

        page = tmp_path / "explain.html"  # the static page works from a file, with no server
        main(["explain", "--nla", str(nla_dir), "--max-new-tokens", "6", "--json", "--html", str(page), "Bob: hello there"])
        driver.get(page.as_uri())
        driver.find_elements(By.CSS_SELECTOR, ".tok")[2].click()
        assert "FVE" in find("#d-head").text and find("#d-text").text


@pytest.mark.browser
@CHROMIUM_ONLY
def test_the_audit_panel_in_headless_chromium(nla, tmp_path, free_port, monkeypatch):
    """Paste a chat, name a concept, run: the finding shows with its evidence and guards, and markup in it stays text."""
    from selenium.webdriver.common.by import By

    monkeypatch.setattr(NLA, "roundtrip", bread_everywhere)
    with explorer_in_chromium(create_app(nla, FAST), tmp_path / "profile", free_port) as (driver, wait):
        find = lambda css: driver.find_element(By.CSS_SELECTOR, css)  # noqa: E731
        wait.until(lambda d: "layer 1" in find("#info").text)
        driver.execute_script("document.getElementById('audit-text').value = arguments[0];", json.dumps(CHAT))
        find("#audit-concepts").send_keys("bread")
        find("#audit-go").click()
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#audit-results .audit-finding"))
        shown = find("#audit-results").text
        assert "correlational" in shown and "bread" in shown and "agreement" in shown and "FVE" in shown, shown
        assert "min_fve" in shown and "control" in shown and "onerror" in shown  # the guards, and the markup as text
        assert not driver.find_elements(By.CSS_SELECTOR, "#audit-results img, #audit-results i")
        assert len(driver.find_elements(By.CSS_SELECTOR, "#audit-results .audit-finding tr")) >= 2  # a header and evidence
        assert not [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
