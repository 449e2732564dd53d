"""The kernel registry: every kernel is in a family's table, input checks, the numba/numpy switch,
the compile cache folder, and laziness (numba is imported only when a kernel first compiles)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import test_kernels_activation
import test_kernels_conv
import test_kernels_linalg
import test_kernels_lstm
import test_kernels_norm
import test_kernels_optim
import test_kernels_softmax_xent
import test_kernels_sparse
import test_kernels_special
from kernel_table import REPO_ROOT, relayout

import autograd_core as ag
import autograd_core.kernels as K
from autograd_core.kernels import registry


def test_table_covers_every_kernel():
    families = (test_kernels_activation, test_kernels_conv, test_kernels_linalg,
                test_kernels_lstm, test_kernels_norm, test_kernels_optim,
                test_kernels_softmax_xent, test_kernels_sparse, test_kernels_special)
    assert {case.kernel for family in families for case in family.CASES} == set(K.names())


def test_inputs_in_other_layouts_are_really_non_contiguous():
    x = np.ones((7, 13))
    assert not relayout(x, "transposed").flags.c_contiguous
    assert not relayout(x, "strided").flags.c_contiguous


def test_errors_name_the_kernel_and_the_problem():
    z32, z64 = np.zeros((2, 3), np.float32), np.zeros((2, 3))
    with pytest.raises(TypeError, match="bias_act_forward: bias has dtype float64"):
        K.bias_act_forward(z32, np.zeros(3), "relu")
    with pytest.raises(ValueError, match=r"bias_act_forward: bias must have shape \(3,\)"):
        K.bias_act_forward(z64, np.zeros(2), "relu")
    with pytest.raises(ValueError, match="unknown activation 'gelu'"):
        K.bias_act_forward(z64, np.zeros(3), "gelu")
    with pytest.raises(TypeError, match="float32 or float64, got int64"):
        K.gibbs_sample(np.zeros((1, 3), np.int64), np.zeros(3, np.int64))
    with pytest.raises(ValueError, match="label 3 is out of range for 3 classes"):
        K.softmax_xent_forward(z64, np.array([0, 3]))
    with pytest.raises(ValueError, match="label -1 is out of range"):
        K.softmax_xent_backward(z64, np.array([-1, 0]), np.ones(2))
    with pytest.raises(TypeError, match="labels must be integers"):
        K.softmax_xent_forward(z64, np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="do not align"):
        K.small_matmul(z64, z64)


def test_use_jit_switches_and_restores():
    before = K.jit_enabled()
    with K.use_jit(False):
        assert not K.jit_enabled()
        assert K.get("gibbs_sample") is registry._KERNELS["gibbs_sample"].twin
        with K.use_jit(True):
            assert K.jit_enabled()
            assert K.get("gibbs_sample").py_func is registry._KERNELS["gibbs_sample"].source
        assert not K.jit_enabled()
    assert K.jit_enabled() == before
    K.use_jit(not before)  # the plain call form switches for good
    try:
        assert K.jit_enabled() is (not before)
    finally:
        K.use_jit(before)


def test_get_unknown_kernel_lists_the_known_ones():
    with pytest.raises(KeyError, match="registered kernels"):
        K.get("conv2d")


def test_jit_env_values():
    assert registry._jit_from_env({})
    assert registry._jit_from_env({"AUTOGRAD_CORE_JIT": "1"})
    for off in ("0", "false", "OFF", " no "):
        assert not registry._jit_from_env({"AUTOGRAD_CORE_JIT": off})


def test_numba_cache_goes_to_user_folder_when_package_is_read_only():
    env = {"XDG_CACHE_HOME": "/xdg"}
    assert registry._numba_cache_dir(env, package_writable=True) is None
    assert registry._numba_cache_dir(env, package_writable=False) == "/xdg/autograd_core/numba"
    user_set = {**env, "NUMBA_CACHE_DIR": "/mine"}
    assert registry._numba_cache_dir(user_set, package_writable=False) is None


def run_python(code: str, **env: str) -> str:
    environ = {**os.environ, "PYTHONPATH": str(REPO_ROOT), **env}
    done = subprocess.run(
        [sys.executable, "-c", code], env=environ, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_import_does_not_import_numba():
    run_python("import autograd_core.kernels, sys; assert 'numba' not in sys.modules")


def test_env_var_selects_twins_and_numba_is_never_imported():
    code = (
        "import sys, numpy as np, autograd_core.kernels as K\n"
        "assert not K.jit_enabled()\n"
        "K.bias_act_forward(np.ones((2, 3)), np.ones(3), 'tanh')\n"
        "assert 'numba' not in sys.modules\n"
    )
    run_python(code, AUTOGRAD_CORE_JIT="0")


def test_a_cached_kernel_loads_without_numbas_compiler_registries(tmp_path):
    # compiling sets up numba's typing and lowering registries (numba.np.arraymath among them,
    # which imports scipy.linalg) and loads numba's extensions (reading every installed
    # distribution's entry points); loading a kernel from a warm cache must do neither, and
    # must give the same values
    pytest.importorskip("numba")
    code = (
        "import json, sys, numpy as np, autograd_core.kernels as K\n"
        "values = K.erf(np.array([0.5, -2.0])).tolist()\n"
        "from numba.core import entrypoints\n"
        "print(json.dumps([values, 'numba.np.arraymath' in sys.modules,\n"
        "                  entrypoints._already_initialized]))\n"
    )
    env = {"NUMBA_CACHE_DIR": str(tmp_path), "AUTOGRAD_CORE_JIT": "1"}
    cold_values, compiled, cold_extensions = json.loads(run_python(code, **env))
    warm_values, registries, warm_extensions = json.loads(run_python(code, **env))
    assert compiled and cold_extensions
    assert not registries and not warm_extensions
    assert warm_values == cold_values


def test_sole_owner_tells_a_kernels_fresh_array_from_shared_memory():
    numba = pytest.importorskip("numba")
    outer = registry.get("small_matmul", jit=True)  # loads numba as the kernels do

    @numba.njit
    def two_rows(n):
        both = np.ones((2, n))
        return both[0], both[1]

    made = outer(np.ones((3, 1)), np.ones((1, 2)))
    assert made.base is not None and registry.sole_owner(made)  # adopted without a copy
    first, second = two_rows(4)  # one allocation, two arrays
    assert not registry.sole_owner(first) and not registry.sole_owner(second)
    assert registry.sole_owner(np.ones(3)) and not registry.sole_owner(np.ones(3)[1:])
    assert not registry.sole_owner(made[1:])


def test_walk_adopts_a_kernels_gradient_without_copying():
    # the linear layer's batch-1 weight gradient comes from the numba outer-product kernel; a
    # copy would own its memory (no base), the kernel's array keeps numba's record as base
    x = ag.tensor(np.ones((1, 300), np.float32))
    weight = ag.tensor(np.ones((200, 300), np.float32), requires_grad=True)
    ag.linear(x, weight).sum().backward()
    np.testing.assert_array_equal(weight.grad.numpy(), np.ones((200, 300)))
    if K.jit_enabled():
        assert weight.grad.data.base is not None and registry.sole_owner(weight.grad.data)
