"""`make lab` serves the course: JupyterLab starts headless, lists the notebooks, and starts the course kernel
of this checkout's .venv (tests/test_kernel.py covers two clones, one deleted)."""
import json
import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.request
import uuid
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


@pytest.fixture(scope="module")
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


def api(base: str, token: str, path: str, method: str = "GET", body: dict | None = None):
    request = urllib.request.Request(f"{base}{path}", method=method, headers={"Authorization": f"token {token}"},
                                     data=None if body is None else json.dumps(body).encode())
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read() or b"null")


def test_make_lab_serves_the_course(lab_server):
    base, token = lab_server
    names = {item["name"] for item in get_json(f"{base}/api/contents/notebooks?token={token}")["content"]}
    assert "00_course_map_and_data.ipynb" in names
    with urllib.request.urlopen(f"{base}/lab?token={token}", timeout=5) as page:
        assert page.status == 200


def test_the_course_kernel_is_this_checkouts_and_runs_a_cell(lab_server):
    base, token = lab_server
    spec = get_json(f"{base}/api/kernelspecs?token={token}")["kernelspecs"]["lstm-course"]["spec"]
    assert spec["display_name"] == "Python (LSTM course)"
    assert spec["argv"][0] == str(ROOT / ".venv" / "bin" / "python")
    # What opening a notebook and running a cell does; a kernel whose python is gone fails here
    # ("Error Starting Kernel").
    kernel = api(base, token, "/api/kernels", "POST", {"name": "lstm-course"})
    try:
        assert run_cell(base, token, kernel["id"], "import sys; print(sys.executable)") == spec["argv"][0]
    finally:
        api(base, token, f"/api/kernels/{kernel['id']}", "DELETE")


def run_cell(base: str, token: str, kernel_id: str, code: str) -> str:
    """Standard output of ``code`` run in the kernel over the server's WebSocket, as the notebook does."""
    import websocket

    session, msg_id = uuid.uuid4().hex, uuid.uuid4().hex
    url = f"{base.replace('http', 'ws', 1)}/api/kernels/{kernel_id}/channels?session_id={session}"
    socket = websocket.create_connection(url, timeout=90, header=[f"Authorization: token {token}"])
    try:
        socket.send(json.dumps({
            "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": "test", "session": session,
                       "version": "5.3", "date": ""},
            "parent_header": {}, "metadata": {}, "buffers": [], "channel": "shell",
            "content": {"code": code, "silent": False, "store_history": False, "user_expressions": {},
                        "allow_stdin": False, "stop_on_error": True}}))
        out = []
        while True:  # the reply (shell) may overtake the output (iopub); iopub's "idle" comes after all output
            message = json.loads(socket.recv())
            if message.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            if message["msg_type"] == "stream":
                out.append(message["content"]["text"])
            elif message["msg_type"] == "error":
                pytest.fail(f"the cell failed: {message['content']}")
            elif message["msg_type"] == "status" and message["content"]["execution_state"] == "idle":
                return "".join(out).strip()
    finally:
        socket.close()
