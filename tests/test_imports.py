"""What ``import autograd_core`` and ``import nn`` load, and that what they defer still works.

The import is kept short by loading some modules on first use (``python -m bench.imports``
times it). Each test runs in a fresh interpreter, the only place where ``sys.modules`` tells what
an import loaded.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Loaded on first use, never by ``import nn``: what each costs (or would pull in) at import.
DEFERRED = [
    "tqdm", "asyncio", "importlib.metadata",    # nn.train's progress bar
    "numpy.random",                             # autograd_core.random's generator
    "threadpoolctl",                            # nn.rbm's BLAS thread limit
    "nn.distributed", "nn.serialization", "nn.interop", "nn.sklearn",
    "numba", "graphviz",                        # the kernels, the teaching tools
    "ray", "torch", "onnx", "onnxruntime", "safetensors", "sklearn", "scipy",
]


def run_python(code: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def loaded_by(statement: str) -> list[str]:
    """The modules of DEFERRED that ``statement`` loads beyond what ``import numpy`` loads."""
    code = (f"import json, sys, numpy\nbefore = set(sys.modules)\n{statement}\n"
            f"print(json.dumps(sorted((set(sys.modules) - before) & set({DEFERRED!r}))))")
    return json.loads(run_python(code))


def test_import_nn_defers_what_it_does_not_need():
    assert loaded_by("import nn") == []


def test_import_autograd_core_defers_what_it_does_not_need():
    assert loaded_by("import autograd_core") == []


def test_deferred_names_load_on_first_use_and_are_the_modules_own():
    code = """
import json, sys
import nn

lazy = ["distributed", "save", "load", "load_state_dict", "ModelFileError", "save_safetensors",
        "load_safetensors", "export_onnx"]
assert all(name in dir(nn) for name in nn.__all__)
assert not any(f"nn.{m}" in sys.modules for m in ("distributed", "serialization", "interop"))
from nn import export_onnx, save
import nn.interop, nn.serialization
assert save is nn.serialization.save and export_onnx is nn.interop.export_onnx
assert nn.load is nn.serialization.load and nn.ModelFileError is nn.serialization.ModelFileError
assert nn.distributed is sys.modules["nn.distributed"] and callable(nn.distributed.fit)
assert all(getattr(nn, name) is not None for name in nn.__all__)
try:
    nn.no_such_name
except AttributeError as error:
    assert "no_such_name" in str(error)
else:
    raise AssertionError("nn.no_such_name did not raise")
namespace = {}
exec("from nn import *", namespace)
print(json.dumps(sorted(set(nn.__all__) - set(namespace))))
"""
    assert json.loads(run_python(code)) == []


def test_the_generator_is_made_on_first_use_and_seeding_still_reproduces():
    code = """
import json, sys
import autograd_core as ag

assert "numpy.random" not in sys.modules
first = ag.randn(3).numpy().tolist()  # unseeded: draws from a fresh generator
ag.manual_seed(7)
a = ag.randn(3).numpy().tolist()
ag.manual_seed(7)
print(json.dumps([a == ag.randn(3).numpy().tolist(), len(first)]))
"""
    assert json.loads(run_python(code)) == [True, 3]
