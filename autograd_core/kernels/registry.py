"""The kernel registry: name -> (numba source, numpy twin), and the switch between the two.

A kernel is registered as a pair of plain Python functions with the same signature:

- ``source``: explicit loops, compiled by ``numba.njit`` the first time the kernel is used;
- ``twin``: the same computation written with numpy array operations.

Numba is imported only when a kernel is first compiled, so importing the package stays cheap and
``AUTOGRAD_CORE_JIT=0`` (or ``use_jit(False)``) never imports numba at all.

The raw kernels returned by :func:`get` expect C-contiguous arrays of one float dtype and already
normalised arguments; the public functions of each family module (``bias_act_forward`` ...) check
and prepare their inputs, then call ``get(name)``.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

JIT_ENV_VAR = "AUTOGRAD_CORE_JIT"

# error_model="numpy": a float division by zero gives inf/nan exactly as in the numpy twin instead
# of raising ZeroDivisionError, and the loops are free of the per-division zero checks that would
# block vectorisation.
NJIT_OPTIONS: dict[str, Any] = {
    "cache": True,
    "fastmath": False,
    "nogil": True,
    "error_model": "numpy",
}


class Kernel(NamedTuple):
    source: Callable[..., Any]
    twin: Callable[..., Any]


_KERNELS: dict[str, Kernel] = {}
_compiled: dict[str, Callable[..., Any]] = {}
_numba_memory: list[type] = []  # numba's record of the memory it allocated, once numba is loaded


def _jit_from_env(environ: Mapping[str, str]) -> bool:
    return environ.get(JIT_ENV_VAR, "1").strip().lower() not in {"0", "false", "no", "off"}


_jit: bool = _jit_from_env(os.environ)


def register(name: str, source: Callable[..., Any], twin: Callable[..., Any]) -> None:
    """Register a kernel under ``name``; ``source`` and ``twin`` must share one signature."""
    if name in _KERNELS:
        raise ValueError(f"kernel {name!r} is already registered")
    _KERNELS[name] = Kernel(source, twin)


def names() -> list[str]:
    """The names of all registered kernels, sorted."""
    return sorted(_KERNELS)


def jit_enabled() -> bool:
    """True when kernels run the numba-compiled loops, False when they run the numpy twins."""
    return _jit


class use_jit:  # lower case: called like a function, as torch.set_grad_enabled
    """Select the numba kernels (True) or the numpy twins (False) for the whole process.

    The choice takes effect at once; used as a context manager it is undone on exit::

        kernels.use_jit(False)             # from now on
        with kernels.use_jit(False):       # only inside the block
            ...

    The default comes from the environment: ``AUTOGRAD_CORE_JIT=0`` selects the twins.
    """

    def __init__(self, enabled: bool) -> None:
        global _jit
        self._previous = _jit
        _jit = bool(enabled)

    def __enter__(self) -> use_jit:
        return self

    def __exit__(self, *exc_info: object) -> None:
        global _jit
        _jit = self._previous


def get(name: str, jit: bool | None = None) -> Callable[..., Any]:
    """The raw kernel ``name``: the compiled loops if ``jit``, else the numpy twin.

    ``jit`` defaults to :func:`jit_enabled`. Compilation happens on the first call.
    """
    try:
        kernel = _KERNELS[name]
    except KeyError:
        raise KeyError(f"unknown kernel {name!r}; registered kernels: {names()}") from None
    if not (_jit if jit is None else jit):
        return kernel.twin
    compiled = _compiled.get(name)
    if compiled is None:
        # Two threads may race here; both get a valid dispatcher and numba's compiler lock
        # serialises the actual compilation, so no lock is needed.
        compiled = _njit()(kernel.source)
        _load_cached_code_without_registries(compiled)
        _compiled[name] = compiled
    return compiled


@functools.cache
def _njit() -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    _configure_numba_cache()
    import numba
    from numba.core.runtime import _nrt_python
    from numba.extending import register_jitable

    _numba_memory.append(_nrt_python._MemInfo)

    from ..formulas import JITABLE

    for formula in JITABLE:  # the loops call the shared formulas
        register_jitable(formula)
    return numba.njit(**NJIT_OPTIONS)


def _load_cached_code_without_registries(dispatcher: Any) -> None:
    """Let ``dispatcher`` load its cached machine code without numba's compile-time set-up.

    Two steps of that set-up cost more than loading the code and are needed only to compile:

    - before every cache lookup numba "refreshes" its target context: the first time, that
      imports and installs all of its typing and lowering registries (typed containers, np.linalg
      with scipy.linalg, cffi, ...), about half of numba's start and so of the first kernel call
      with a warm cache (``python -m bench.imports``). Loading compiled code needs only numba's
      runtime (NRT: the kernels allocate the arrays they return). This replaces numba's
      ``Cache.load_overload`` on our kernels' caches only, keeping its body minus the refresh.
    - before a dispatcher first types its arguments, it loads numba's third-party extensions
      (``entrypoints.init_all``), which reads the entry points of every installed distribution:
      a quarter of the first captured MLP step with a warm cache, in this project's
      environment. Our kernels use numba's own types and functions only, so their dispatchers
      skip it. A cache miss still compiles as usual: numba's compiler refreshes the context,
      and that refresh loads the extensions itself; any other dispatcher loads them as before.

    A numba without these shapes (or with caching off) keeps its own steps.
    """
    if hasattr(dispatcher, "_compilation_chain_init_hook"):
        dispatcher._compilation_chain_init_hook = _no_extensions
    cache = getattr(dispatcher, "_cache", None)
    if not all(hasattr(cache, n) for n in ("_load_overload", "_guard_against_spurious_io_errors")):
        return
    from numba.core.runtime import rtsys

    def load_overload(sig: Any, target_context: Any) -> Any:
        rtsys.initialize(target_context)
        with cache._guard_against_spurious_io_errors():
            return cache._load_overload(sig, target_context)
        return None  # an I/O error the guard swallowed: numba then compiles

    cache.load_overload = load_overload


def _no_extensions() -> None:
    """Our kernels' stand-in for numba's ``_compilation_chain_init_hook`` (see above)."""


def sole_owner(array: Any) -> bool:
    """True when nothing but ``array`` can reach its memory, so it may be adopted and written in
    place: numpy allocated it for this array (no ``base``), or a kernel allocated it and handed it
    over (its base is numba's memory record and only this array holds that record). A view of
    another array is never a sole owner.
    """
    base = array.base
    if base is None:
        return True
    return bool(_numba_memory) and base.__class__ is _numba_memory[0] and base.refcount == 1


def user_cache_dir(environ: Mapping[str, str]) -> str:
    """``$XDG_CACHE_HOME/autograd_core/numba``, by default ``~/.cache/autograd_core/numba``."""
    base = environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "autograd_core", "numba")


def _numba_cache_dir(environ: Mapping[str, str], package_writable: bool) -> str | None:
    """Where numba's cache should go, or None to keep numba's choice.

    Numba caches next to the source (``kernels/__pycache__``); an installed, read-only package
    needs a user folder instead. A NUMBA_CACHE_DIR set by the user always wins.
    """
    if "NUMBA_CACHE_DIR" in environ or package_writable:
        return None
    return user_cache_dir(environ)


def _configure_numba_cache() -> None:
    # numba reads NUMBA_CACHE_DIR once, when it is imported: this must run before that.
    here = os.path.dirname(os.path.abspath(__file__))
    pycache = os.path.join(here, "__pycache__")
    writable = os.access(pycache if os.path.isdir(pycache) else here, os.W_OK)
    cache_dir = _numba_cache_dir(os.environ, writable)
    if cache_dir is not None:
        os.environ["NUMBA_CACHE_DIR"] = cache_dir
