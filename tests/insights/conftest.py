"""Real parts for the insights tests: one MLflow tracking server per test session (127.0.0.1,
a free port, stopped by PID) and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from support import REPO_ROOT, require_module, require_tool

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]
SERVER_START_S = 300  # about 20 s on an idle machine; far more on a busy one


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def mlflow_server_started(tmp_path_factory: pytest.TempPathFactory):
    """A real ``mlflow server`` (SQLite backend, proxied artifacts in its own folder) being
    started: (process, url, log). It takes 20 s or more to answer, so test modules ask for
    this first (autouse) and their other tests run meanwhile."""
    require_module("mlflow")
    root = tmp_path_factory.mktemp("mlflow-server")
    port = free_port()
    log = root / "server.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    with open(log, "wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port),
             "--backend-store-uri", f"sqlite:///{root / 'mlflow.db'}",
             "--artifacts-destination", str(root / "artifacts"), "--workers", "1"],
            cwd=root, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield process, f"http://127.0.0.1:{port}", log
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def mlflow_server(mlflow_server_started) -> str:
    """``http://127.0.0.1:PORT`` of the session's MLflow server, once it answers /health."""
    process, url, log = mlflow_server_started
    deadline = time.monotonic() + SERVER_START_S
    while True:
        if process.poll() is not None:
            pytest.fail(f"mlflow server exited: {log.read_text()[-2000:]}")
        try:
            if requests.get(f"{url}/health", timeout=2).status_code == 200:
                return url
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"mlflow server did not answer /health in {SERVER_START_S} s")
        time.sleep(0.5)


@pytest.fixture(scope="module")
def browser():
    """A headless Debian Chromium under Playwright, for one test module: Playwright's sync API
    keeps an event loop running in this thread while it lives, and tests of other modules
    (asyncio.run) must not find it."""
    chromium = require_tool("chromium", "the report tests open it in a real browser")
    require_module("playwright")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture
def page(browser):
    """A fresh page that records every request it makes (``page.requests``)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.requests = []
    page.on("request", lambda request: page.requests.append(request.url))
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    try:
        yield page
    finally:
        context.close()


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Where tests keep what a person would look at (screenshots): $SAMEPACK_TEST_ARTIFACTS,
    else test-artifacts/ in the checkout."""
    target = Path(os.environ.get("SAMEPACK_TEST_ARTIFACTS") or REPO_ROOT / "test-artifacts")
    target.mkdir(parents=True, exist_ok=True)
    return target
