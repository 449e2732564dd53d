"""Saving and loading models in a file format that never unpickles.

A model file is a zip archive (stored, not compressed) holding

- ``model.json``: ``{"format": "nn-model", "version": 1, "architecture": ..., "training": ...,
  "class": ..., "keys": [...]}``, where ``architecture`` is ``module_to_config(model)`` (see
  ``nn.module``) or null for a module that cannot be described (its weights still load with
  ``nn.load_state_dict``), and ``keys`` lists the state_dict keys in order;
- ``<key>.npy`` for each key: one array in numpy's .npy format.

Reading checks every .npy header before reading its data: an array of Python objects (which
numpy would unpickle) is refused, as is a header whose size disagrees with the data. Nothing in
the file is ever executed, and ``nn.load`` builds only classes registered with
``@nn.register_module``.

Saving is atomic: the archive is written to a temporary file in the target's folder, flushed to
disk (fsync) and renamed over the target, so a crash mid-save leaves any previous file intact.

>>> nn.save(model, "digits.nnz")
>>> model2 = nn.load("digits.nnz")                 # same class, same weights, same mode
>>> weights = nn.load_state_dict("digits.nnz")     # {"0.weight": array, ...}
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np

import autograd_core as ag

from .base import Module
from .module import NotDescribableError, module_from_config, module_to_config

FORMAT = "nn-model"
VERSION = 1
_META = "model.json"
_MAX_META_BYTES = 16 * 2**20


class ModelFileError(ValueError):
    """A model file that cannot be read: corrupted, truncated, unsafe or of another format."""


def save(model: Module | Mapping[str, Any], path: str | os.PathLike) -> None:
    """Write ``model``'s weights and, if it is made of registered modules, its architecture.

    ``model`` may also be a state_dict (a mapping name -> array). The write is atomic.
    """
    path = Path(path)
    if isinstance(model, Module):
        state = model.state_dict()
        try:
            architecture = module_to_config(model)
        except NotDescribableError:
            architecture = None
        meta = {"class": type(model).__name__, "training": model.training}
    elif isinstance(model, Mapping):
        state = OrderedDict((str(k), v.data if isinstance(v, ag.Tensor) else np.asarray(v))
                            for k, v in model.items())
        architecture, meta = None, {"class": None, "training": None}
    else:
        raise TypeError(f"nn.save: expected an nn.Module or a state_dict, got "
                        f"{type(model).__name__}")
    for key, array in state.items():
        if array.dtype.kind not in "biuf":
            raise TypeError(f"nn.save: {key!r} has dtype {array.dtype}; only numeric arrays can "
                            "be saved")
    meta = {"format": FORMAT, "version": VERSION, "architecture": architecture, **meta,
            "keys": list(state)}
    try:
        meta_bytes = json.dumps(meta, indent=1, allow_nan=False).encode()
    except (TypeError, ValueError) as err:
        raise TypeError(f"nn.save: the architecture of {type(model).__name__} is not JSON-able "
                        f"(check get_config()): {err}") from err
    _atomic_write(path, lambda f: _write_archive(f, meta_bytes, state))


def _write_archive(file: IO[bytes], meta_bytes: bytes, state: Mapping[str, np.ndarray]) -> None:
    with zipfile.ZipFile(file, "w", compression=zipfile.ZIP_STORED) as archive:
        # A fixed timestamp (zip's epoch, as .npy members get) keeps equal models' files equal.
        archive.writestr(zipfile.ZipInfo(_META, date_time=(1980, 1, 1, 0, 0, 0)), meta_bytes)
        for key, array in state.items():
            with archive.open(key + ".npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, array, allow_pickle=False)


def _atomic_write(path: Path, write) -> None:
    """``write(file)`` into a temporary file beside ``path``, fsync it, rename it to ``path``."""
    folder = path.parent
    if not folder.is_dir():
        raise FileNotFoundError(f"nn.save: the folder {str(folder)!r} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(tmp, _file_mode(path))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_folder(folder)


def _file_mode(path: Path) -> int:
    """The previous file's permissions, or those a new file would get (mkstemp's are 0600)."""
    if path.exists():
        return path.stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (where the OS lets a folder be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _read(path: str | os.PathLike, caller: str) -> tuple[dict[str, Any], OrderedDict]:
    """The metadata and the weights of a model file, refusing anything unsafe."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{caller}: no such file: {str(path)!r}")
    try:
        with zipfile.ZipFile(path) as archive:
            meta = _read_meta(archive)
            state = OrderedDict((key, _read_array(archive, key + ".npy"))
                                for key in meta["keys"])
    except ModelFileError as err:
        raise ModelFileError(f"{caller}: {str(path)!r}: {err}") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError,
            KeyError) as err:
        raise ModelFileError(f"{caller}: {str(path)!r} is not a readable nn model file "
                             f"(truncated or corrupted?): {err}") from err
    return meta, state


def _read_meta(archive: zipfile.ZipFile) -> dict[str, Any]:
    try:
        info = archive.getinfo(_META)
    except KeyError:
        raise ModelFileError(f"no {_META} inside: not a file written by nn.save") from None
    if info.file_size > _MAX_META_BYTES:
        raise ModelFileError(f"{_META} is implausibly large ({info.file_size} bytes)")
    try:
        meta = json.loads(archive.read(_META).decode())
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ModelFileError(f"{_META} is not valid JSON: {err}") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelFileError(f"not a file written by nn.save (format {FORMAT!r} expected)")
    version = meta.get("version")
    if not isinstance(version, int) or version > VERSION:
        raise ModelFileError(f"format version {version!r} is newer than this nn reads "
                             f"({VERSION}); upgrade the package")
    keys = meta.get("keys")
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise ModelFileError(f"{_META} has no valid 'keys' list")
    return meta


def _read_array(archive: zipfile.ZipFile, name: str) -> np.ndarray:
    """One .npy member; its header is checked before any data is interpreted."""
    try:
        data = archive.read(name)  # reading it whole verifies the zip's CRC
    except KeyError:
        raise ModelFileError(f"the weight file {name!r} is missing") from None
    buffer = io.BytesIO(data)
    version = np.lib.format.read_magic(buffer)
    if version == (1, 0):
        shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(buffer)
    elif version == (2, 0):
        shape, fortran_order, dtype = np.lib.format.read_array_header_2_0(buffer)
    else:
        raise ModelFileError(f"{name!r} has an unsupported .npy version {version}")
    if dtype.hasobject:
        raise ModelFileError(
            f"{name!r} holds Python objects (dtype {dtype}), which could only be read by "
            "unpickling them; refusing to load it (nothing from the file was run)"
        )
    if dtype.kind not in "biuf":
        raise ModelFileError(f"{name!r} has the non-numeric dtype {dtype}")
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) - buffer.tell() != expected:
        raise ModelFileError(f"{name!r} holds {len(data) - buffer.tell()} bytes of data, but its "
                             f"header ({shape} {dtype}) needs {expected}")
    buffer.seek(0)
    return np.lib.format.read_array(buffer, allow_pickle=False)


def load_state_dict(path: str | os.PathLike) -> OrderedDict[str, np.ndarray]:
    """The weights saved in ``path`` as an ordered ``{name: array}``, for
    ``module.load_state_dict(...)`` on a module you build yourself."""
    return _read(path, "nn.load_state_dict")[1]


def load(path: str | os.PathLike) -> Module:
    """Rebuild the model saved in ``path``: its architecture, weights and train/eval mode."""
    meta, state = _read(path, "nn.load")
    architecture = meta.get("architecture")
    if architecture is None:
        raise ModelFileError(
            f"nn.load: {str(Path(path))!r} holds only weights (of a {meta.get('class')} that "
            "nn.save could not describe); build the module yourself and call "
            "module.load_state_dict(nn.load_state_dict(path))"
        )
    try:
        model = module_from_config(architecture)
    except (ValueError, TypeError) as err:
        raise ModelFileError(f"nn.load: {str(Path(path))!r}: cannot rebuild the model: "
                             f"{err}") from err
    # The constructors make default-dtype weights; a float64 model must come back float64.
    params = dict(model.named_parameters(remove_duplicate=False))
    for key, array in state.items():
        if key in params and params[key].dtype != array.dtype:
            params[key].data = params[key].data.astype(array.dtype)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as err:
        raise ModelFileError(f"nn.load: {str(Path(path))!r}: the weights do not fit the "
                             f"architecture: {err}") from err
    if isinstance(meta.get("training"), bool):
        model.train(meta["training"])
    return model
