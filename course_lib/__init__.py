"""Library behind the LSTM time-series forecasting course.

Every notebook starts with ``device = course_lib.setup()``, which makes the run
reproducible and picks the device. The chapters' code lives in one module per
idea (``data``, ``stats``, ``differencing``, ...); import what a notebook needs.
"""
from course_lib.environment import setup, pick_device

__version__ = "0.1.0"
__all__ = ["setup", "pick_device", "__version__"]
