"""`make lab` serves the course: JupyterLab starts headless, lists the notebooks and knows the course kernel."""
import json
import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url: str):
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


@pytest.fixture
def lab_server():
    port, token = free_port(), secrets.token_hex(16)
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    process = subprocess.Popen(
        ["make", "--no-print-directory", "lab", f"LAB_PORT={port}", f"LAB_ARGS=--ServerApp.token={token}"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            if process.poll() is not None:
                pytest.fail(f"make lab exited with {process.returncode}: {process.stdout.read()[-2000:]}")
            try:
                get_json(f"{base}/api/status?token={token}")
                break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("JupyterLab did not answer within 60 s")
        yield base, token
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def test_make_lab_serves_the_course(lab_server):
    base, token = lab_server
    names = {item["name"] for item in get_json(f"{base}/api/contents/notebooks?token={token}")["content"]}
    assert "00_course_map_and_data.ipynb" in names
    assert "lstm-course" in get_json(f"{base}/api/kernelspecs?token={token}")["kernelspecs"]
    with urllib.request.urlopen(f"{base}/lab?token={token}", timeout=5) as page:
        assert page.status == 200
