"""Suite-wide settings.

OpenBLAS busy-waits its worker threads; with pytest-xdist workers and notebook kernels running
side by side on a small machine, two BLAS threads per process oversubscribe the cores and turn
0.02 ms matmuls into tens of milliseconds. One BLAS thread per process keeps the suite fast and
its timings stable. The environment variable reaches notebook kernels (child processes); the
threadpool limit covers this process, whose numpy is already loaded.

Property tests explore new inputs on every run by default; a submission must not pass or fail by
luck, so hypothesis derives its examples from each test's name (the same ones on every run).
"""

import os

from hypothesis import settings
from threadpoolctl import threadpool_limits

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
threadpool_limits(1)

settings.register_profile("deterministic", derandomize=True, deadline=None)
settings.load_profile("deterministic")
