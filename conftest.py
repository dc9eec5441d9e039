"""Root pytest configuration: notebooks run in quick mode, torch uses few threads."""

import os

os.environ.setdefault("TOOLKIT_QUICK", "1")
os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("MPLBACKEND", "Agg")
