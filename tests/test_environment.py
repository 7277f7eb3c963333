"""course_lib.setup and pick_device."""
import random

import numpy as np
import pytest
import torch

import course_lib


def draws():
    return random.random(), np.random.rand(), torch.rand(1).item()


def test_setup_seeds_python_numpy_and_torch(capsys):
    course_lib.setup(seed=5)
    first = draws()
    course_lib.setup(seed=5)
    assert draws() == first
    course_lib.setup(seed=6)
    assert draws() != first


def test_setup_prints_one_line_and_fixes_threads(capsys):
    device = course_lib.setup(seed=0, threads=1)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("[course] seed=0 threads=1 device=")
    assert torch.get_num_threads() == 1
    assert isinstance(device, torch.device)
    course_lib.setup(quiet=True)
    assert capsys.readouterr().out == ""
    assert torch.get_num_threads() == course_lib.environment.DEFAULT_THREADS


def test_setup_rejects_zero_threads():
    with pytest.raises(ValueError, match="threads"):
        course_lib.setup(threads=0, quiet=True)


def test_pick_device_defaults_to_cuda_when_present_else_cpu(monkeypatch):
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert course_lib.pick_device().type == expected


def test_course_device_overrides(monkeypatch):
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    assert course_lib.pick_device() == torch.device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_requesting_missing_cuda_is_an_error(monkeypatch):
    monkeypatch.setenv("COURSE_DEVICE", "cuda")
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        course_lib.pick_device()


def test_unknown_device_name_is_an_error():
    with pytest.raises(RuntimeError, match="not a device name"):
        course_lib.pick_device("gpu-please")
