"""Saving and loading models and training checkpoints in a file format that never unpickles.

``nn.save`` takes a module, a state_dict, or a checkpoint: a dict (or list) of modules,
optimizers, schedulers, arrays, numbers, strings, None and nested dicts/lists/tuples of those::

    nn.save(model, "digits.nnz")
    model = nn.load("digits.nnz")                  # same class, same weights, same mode
    weights = nn.load_state_dict("digits.nnz")     # {"0.weight": array, ...}

    nn.save({"model": model, "optimizer": opt, "scheduler": sched, "epoch": epoch}, "ckpt.nnz")
    ckpt = nn.load("ckpt.nnz")
    model = ckpt["model"]                          # rebuilt (as nn.load(model file) would)
    opt.load_state_dict(ckpt["optimizer"])         # optimizers/schedulers come back as state_dicts
    sched.load_state_dict(ckpt["scheduler"])

Anything with a ``state_dict()`` method (optimizers, schedulers) is stored as its state_dict and
comes back as that state_dict, as in PyTorch. A module that cannot be described (not registered,
see ``nn.module``) comes back, inside a checkpoint, as its state_dict; saved alone, only
``nn.load_state_dict`` reads it.

The file
--------
A zip archive, every member stored uncompressed:

- ``model.json``: ``{"format": "nn-model", "version": 2, "content": ..., "arrays": [...]}``.
  ``content`` is the saved object as JSON, with tagged objects where JSON has no type:
  ``{"$array": i}`` (``"scalar": true`` for a numpy scalar), ``{"$module": {"class",
  "training", "architecture", "state": {key: i}}}`` (``architecture`` is ``module_to_config``'s
  output or null), ``{"$state_of": class name, "state": ...}``, ``{"$dict": [[key, value],
  ...]}`` (keys that are not strings, or start with "$"), ``{"$tuple": [...]}`` and
  ``{"$float": "nan" | "inf" | "-inf"}``. ``arrays[i]`` is ``{"member", "dtype", "shape",
  "sha256"}``;
- one ``.npy`` member per array (numpy's format, C order, never pickled).

Reading trusts nothing in the file: members must be stored uncompressed and unencrypted, and
their sizes must fit in the file (so nothing inflates); the JSON is bounded in size and depth;
every .npy header must agree with the manifest (dtype, shape, size; numeric dtypes only)
before any data is read or any model is built; a model is built under
``nn.module.parameter_budget`` (no more parameter values than the file holds); and each array's
data must match the SHA-256 in the manifest (the zip's CRC-32 of each member is checked too, so
a single flipped bit anywhere in an array is always caught). Any failure is a ``ModelFileError``.
Nothing in the file is ever executed, and only classes registered with ``@nn.register_module``
are built. Version 1 files (no checksums) are still read.

Saving is atomic: the archive is written to a temporary file in the target's folder, flushed to
disk (fsync) and renamed over the target, so a crash mid-save leaves any previous file intact;
temporary files left by a save that was killed are removed by the next save to the same path.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import re
import struct
import tempfile
import zipfile
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np

import autograd_core as ag

from .module import (
    ModuleBase,
    NotDescribableError,
    module_from_config,
    module_to_config,
    parameter_budget,
)

FORMAT = "nn-model"
VERSION = 2
_META = "model.json"
_MAX_META_BYTES = 16 * 2**20
_MAX_DEPTH = 100  # JSON nesting: deep enough for any real architecture, far from recursion limits
_MAX_MEMBERS = 1_000_000
_CHUNK = 2**20
# What a damaged or hostile zip makes zipfile raise (RecursionError is a RuntimeError).
_UNREADABLE = (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError,
               KeyError, RuntimeError, NotImplementedError, struct.error, OverflowError,
               IndexError)
_ACTIVE_TEMPORARIES: set[str] = set()


class ModelFileError(ValueError):
    """A model file that cannot be read: corrupted, truncated, unsafe or of another format."""


# -- saving ------------------------------------------------------------------------------------
def save(obj: Any, path: str | os.PathLike) -> None:
    """Write a module, a state_dict or a checkpoint dict to ``path`` (atomically).

    >>> nn.save({"model": model, "optimizer": opt, "epoch": 3}, "ckpt.nnz")
    """
    path = Path(path)
    if not isinstance(obj, (ModuleBase, Mapping, list, tuple)) and not _has_state_dict(obj):
        raise TypeError(f"nn.save: expected an nn.Module, a state_dict or a checkpoint dict, got "
                        f"{type(obj).__name__}")
    encoder = _Encoder()
    meta = {"format": FORMAT, "version": VERSION, "content": encoder.encode(obj, ()),
            "arrays": encoder.entries}
    try:
        _check_depth(meta)
        meta_bytes = json.dumps(meta, indent=1, allow_nan=False).encode()
    except (ModelFileError, TypeError, ValueError) as err:
        raise TypeError(f"nn.save: the description of {type(obj).__name__} is not storable "
                        f"(check get_config()): {err}") from err
    if len(meta_bytes) > _MAX_META_BYTES:
        raise ValueError(f"nn.save: the description takes {len(meta_bytes)} bytes, more than "
                         f"nn.load accepts ({_MAX_META_BYTES}); store large data as arrays")
    _atomic_write(path, lambda f: _write_archive(f, meta_bytes, encoder.arrays))


def _has_state_dict(obj: Any) -> bool:
    return callable(getattr(obj, "state_dict", None))


def _where(parts: tuple[str, ...]) -> str:
    return "/".join(parts) or "the object"


class _Encoder:
    """Turns a checkpoint into JSON-able content; collects its arrays with their manifest."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}  # member name -> array
        self.entries: list[dict[str, Any]] = []

    def encode(self, value: Any, parts: tuple[str, ...]) -> Any:
        if isinstance(value, ModuleBase):
            return {"$module": self.module(value, parts)}
        if isinstance(value, (np.ndarray, ag.Tensor)):
            return {"$array": self.array(value, parts)}
        if isinstance(value, np.generic):
            return {"$array": self.array(np.asarray(value), parts), "scalar": True}
        if value is None or isinstance(value, (bool, int, str)):
            return value
        if isinstance(value, float):
            return value if math.isfinite(value) else {"$float": repr(value)}
        if isinstance(value, Mapping):
            if all(isinstance(k, str) and not k.startswith("$") for k in value):
                return {k: self.encode(v, (*parts, k)) for k, v in value.items()}
            return {"$dict": [[self.key(k, parts), self.encode(v, (*parts, str(k)))]
                              for k, v in value.items()]}
        if isinstance(value, (list, tuple)):
            items = [self.encode(v, (*parts, str(i))) for i, v in enumerate(value)]
            return items if isinstance(value, list) else {"$tuple": items}
        if _has_state_dict(value):
            return {"$state_of": type(value).__name__,
                    "state": self.encode(value.state_dict(), parts)}
        raise TypeError(f"nn.save: {_where(parts)} is a {type(value).__name__}, which cannot be "
                        "stored (modules, optimizers, schedulers, arrays, numbers, strings, None "
                        "and lists/tuples/dicts of them can)")

    def key(self, key: Any, parts: tuple[str, ...]) -> Any:
        if isinstance(key, np.integer):
            key = int(key)
        if key is not None and not isinstance(key, (bool, int, float, str)):
            raise TypeError(f"nn.save: {_where(parts)} has a key of type {type(key).__name__}; "
                            "dict keys must be strings, numbers, bools or None")
        return self.encode(key, parts)

    def module(self, module: ModuleBase, parts: tuple[str, ...]) -> dict[str, Any]:
        try:
            architecture = module_to_config(module)
        except NotDescribableError:
            architecture = None
        state = {key: self.array(value, (*parts, key))
                 for key, value in module.state_dict().items()}
        return {"class": type(module).__name__, "training": module.training,
                "architecture": architecture, "state": state}

    def array(self, value: np.ndarray | ag.Tensor, parts: tuple[str, ...]) -> int:
        array = value.data if isinstance(value, ag.Tensor) else value
        if array.dtype.kind not in "biuf" or array.dtype.fields is not None:
            raise TypeError(f"nn.save: {_where(parts)} has dtype {array.dtype}; only numeric "
                            "arrays can be saved")
        if not array.flags.c_contiguous:
            array = np.ascontiguousarray(array)
        member = "/".join(re.sub(r"[^\w.-]", "_", p) for p in parts) or "array"
        if member + ".npy" in self.arrays or member == _META[:-5]:
            member += f"~{len(self.entries)}"
        member += ".npy"
        self.arrays[member] = array
        self.entries.append({"member": member, "dtype": array.dtype.str,
                             "shape": list(array.shape),
                             "sha256": hashlib.sha256(array).hexdigest()})
        return len(self.entries) - 1


def _write_archive(file: IO[bytes], meta_bytes: bytes, arrays: Mapping[str, np.ndarray]) -> None:
    with zipfile.ZipFile(file, "w", compression=zipfile.ZIP_STORED) as archive:
        # A fixed timestamp (zip's epoch, as .npy members get) keeps equal models' files equal.
        archive.writestr(zipfile.ZipInfo(_META, date_time=(1980, 1, 1, 0, 0, 0)), meta_bytes)
        for name, array in arrays.items():
            with archive.open(name, "w", force_zip64=True) as member:
                np.lib.format.write_array(member, array, allow_pickle=False)


def _atomic_write(path: Path, write) -> None:
    """``write(file)`` into a temporary file beside ``path``, fsync it, rename it to ``path``."""
    folder = path.parent
    if not folder.is_dir():
        raise FileNotFoundError(f"nn.save: the folder {str(folder)!r} does not exist")
    _remove_stale_temporaries(path)
    # The pid in the name tells the next save whether the writer is still alive.
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}-", suffix=".tmp", dir=folder)
    _ACTIVE_TEMPORARIES.add(tmp)
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
    finally:
        _ACTIVE_TEMPORARIES.discard(tmp)
    _fsync_folder(folder)


def _remove_stale_temporaries(path: Path) -> None:
    """Delete ``.<name>.<pid>-*.tmp`` files of saves to ``path`` whose process has died."""
    prefix = f".{path.name}."
    for entry in path.parent.iterdir():
        name = entry.name
        if not (name.startswith(prefix) and name.endswith(".tmp")):
            continue
        pid, _, _ = name[len(prefix):].partition("-")
        if pid.isdigit() and _writer_alive(int(pid), str(entry)):
            continue
        # Another save may have removed it first, or we may lack the right: saving still works.
        with contextlib.suppress(OSError):
            entry.unlink()


def _writer_alive(pid: int, tmp: str) -> bool:
    if pid == os.getpid():
        return tmp in _ACTIVE_TEMPORARIES
    if os.name != "posix":
        return True  # no safe liveness probe (os.kill(pid, 0) would signal on Windows)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


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


# -- loading -----------------------------------------------------------------------------------
def _read(path: str | os.PathLike, caller: str, build_modules: bool) -> Any:
    """The decoded content of a model file, refusing anything unsafe."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{caller}: no such file: {str(path)!r}")
    try:
        with open(path, "rb") as file, zipfile.ZipFile(file) as archive:
            reader = _Reader(archive, file, build_modules)
            return reader.decode(reader.content, top=True)
    except ModelFileError as err:
        raise ModelFileError(f"{caller}: {str(path)!r}: {err}") from None
    except _UNREADABLE as err:
        raise ModelFileError(f"{caller}: {str(path)!r} is not a readable nn model file "
                             f"(truncated or corrupted?): {type(err).__name__}: {err}") from err


class _Reader:
    """Checks the archive's structure, manifest and .npy headers, then decodes the content."""

    def __init__(self, archive: zipfile.ZipFile, file: IO[bytes], build_modules: bool):
        self.archive, self.build_modules = archive, build_modules
        file_size = os.fstat(file.fileno()).st_size
        self.members = self._check_members(archive.infolist(), file_size)
        for info in self.members.values():
            _check_local_header(file, info)
        meta = self._read_meta()
        if meta.get("version") == 1:
            meta = _upgrade_version_1(meta)
        entries, self.content = meta.get("arrays"), meta.get("content")
        if not isinstance(entries, list) or "content" not in meta:
            raise ModelFileError(f"{_META} has no valid 'arrays' list and 'content'")
        self.entries = [self._check_entry(i, entry) for i, entry in enumerate(entries)]
        declared = sum(e["nbytes"] for e in self.entries if e["nbytes"] is not None)
        if declared > file_size:
            raise ModelFileError(f"the arrays declare {declared} bytes, more than the whole file "
                                 f"({file_size} bytes)")
        for entry in self.entries:
            self._check_header(entry)

    @staticmethod
    def _check_members(infos: list[zipfile.ZipInfo], file_size: int) -> dict[str, zipfile.ZipInfo]:
        if len(infos) > _MAX_MEMBERS:
            raise ModelFileError(f"{len(infos)} members: implausibly many")
        members, total = {}, 0
        for info in infos:
            name = info.filename
            if name in members:
                raise ModelFileError(f"the member {name!r} appears twice")
            if info.compress_type != zipfile.ZIP_STORED:
                raise ModelFileError(f"the member {name!r} is compressed (zip method "
                                     f"{info.compress_type}); nn.save stores members "
                                     "uncompressed, so this file was not written by it and "
                                     "nothing will be inflated")
            if info.flag_bits & 0x1:
                raise ModelFileError(f"the member {name!r} is encrypted")
            if info.file_size != info.compress_size or \
                    info.header_offset + info.compress_size > file_size:
                raise ModelFileError(f"the member {name!r} declares {info.file_size} bytes, "
                                     f"which do not fit in the file ({file_size} bytes)")
            members[name] = info
            total += info.file_size
        if total > file_size:
            raise ModelFileError(f"the members declare {total} bytes in all, more than the file "
                                 f"holds ({file_size} bytes): overlapping members")
        return members

    def _read_meta(self) -> dict[str, Any]:
        info = self.members.get(_META)
        if info is None:
            raise ModelFileError(f"no {_META} inside: not a file written by nn.save")
        if info.file_size > _MAX_META_BYTES:
            raise ModelFileError(f"{_META} is implausibly large ({info.file_size} bytes)")
        try:
            meta = json.loads(self.archive.read(_META).decode())
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise ModelFileError(f"{_META} is not valid JSON: {err}") from None
        except RecursionError:
            raise ModelFileError(f"{_META} is nested too deeply") from None
        _check_depth(meta)
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise ModelFileError(f"not a file written by nn.save (format {FORMAT!r} expected)")
        version = meta.get("version")
        if type(version) is not int or version < 1:
            raise ModelFileError(f"{_META} has an invalid format version {version!r:.50}")
        if version > VERSION:
            raise ModelFileError(f"format version {version} is newer than this nn reads "
                                 f"({VERSION}); upgrade the package")
        return meta

    def _check_entry(self, index: int, entry: Any) -> dict[str, Any]:
        """Validate manifest entry ``index``; dtype/shape/sha256 are None in version 1 files."""
        what = f"{_META}: array {index}"
        if not isinstance(entry, dict) or not isinstance(entry.get("member"), str):
            raise ModelFileError(f"{what} has no member name")
        if entry["member"] not in self.members:
            raise ModelFileError(f"the weight file {entry['member']!r} is missing")
        dtype, shape, digest = entry.get("dtype"), entry.get("shape"), entry.get("sha256")
        nbytes = None
        if "dtype" in entry or "shape" in entry or "sha256" in entry:
            dtype = _numeric_dtype(dtype, what)
            if not isinstance(shape, list) or len(shape) > 64 or not all(
                    type(n) is int and n >= 0 for n in shape):
                raise ModelFileError(f"{what} has an invalid shape {shape!r:.100}")
            shape = tuple(shape)
            nbytes = math.prod(shape) * dtype.itemsize
            if not isinstance(digest, str) or not re.fullmatch("[0-9a-f]{64}", digest):
                raise ModelFileError(f"{what} has no valid sha256")
        return {"member": entry["member"], "dtype": dtype, "shape": shape, "sha256": digest,
                "nbytes": nbytes, "header": None}

    def _check_header(self, entry: dict[str, Any]) -> None:
        """Read only the .npy header of ``entry``'s member and check it against the manifest."""
        name, info = entry["member"], self.members[entry["member"]]
        with self.archive.open(info) as stream:
            try:
                version = np.lib.format.read_magic(stream)
            except ValueError as err:
                raise ModelFileError(f"{name!r} is not a .npy array: {err}") from None
            if version == (1, 0):
                shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(stream)
            elif version == (2, 0):
                shape, fortran_order, dtype = np.lib.format.read_array_header_2_0(stream)
            else:
                raise ModelFileError(f"{name!r} has an unsupported .npy version {version}")
            header_size = stream.tell()
        if dtype.hasobject:
            raise ModelFileError(
                f"{name!r} holds Python objects (dtype {dtype}), which could only be read by "
                "unpickling them; refusing to load it (nothing from the file was run)"
            )
        _numeric_dtype(dtype.str, repr(name))
        if entry["dtype"] is not None and (dtype != entry["dtype"] or shape != entry["shape"]
                                           or fortran_order):
            raise ModelFileError(f"{name!r} holds {shape} {dtype}, but {_META} declares "
                                 f"{entry['shape']} {entry['dtype']}")
        data_size = info.file_size - header_size
        needed = math.prod(shape) * dtype.itemsize
        if data_size != needed:
            raise ModelFileError(f"{name!r} holds {data_size} bytes of data, but its header "
                                 f"({shape} {dtype}) needs {needed}")
        entry.update(shape=shape, dtype=dtype, fortran_order=fortran_order,
                     header=header_size, nbytes=needed)

    def array(self, index: Any) -> np.ndarray:
        """Array ``index``'s data, streamed into place and checked against its SHA-256."""
        if type(index) is not int or not 0 <= index < len(self.entries):
            raise ModelFileError(f"{_META} refers to array {index!r:.50}, which does not exist")
        entry = self.entries[index]
        order = "F" if entry["fortran_order"] else "C"
        array = np.empty(entry["shape"], entry["dtype"], order=order)
        flat = memoryview(array.T if order == "F" else array).cast("B")
        digest = hashlib.sha256()
        with self.archive.open(self.members[entry["member"]]) as stream:
            stream.read(entry["header"])
            position = 0
            while position < len(flat):  # reading to the end also checks the zip's CRC-32
                chunk = stream.read(min(_CHUNK, len(flat) - position))
                if not chunk:
                    raise ModelFileError(f"{entry['member']!r} ends early")
                flat[position:position + len(chunk)] = chunk
                digest.update(chunk)
                position += len(chunk)
            stream.read()
        if entry["sha256"] is not None and digest.hexdigest() != entry["sha256"]:
            raise ModelFileError(f"{entry['member']!r} does not match its SHA-256 checksum: the "
                                 "file is corrupted")
        return array

    def decode(self, node: Any, top: bool = False) -> Any:
        if isinstance(node, list):
            return [self.decode(v) for v in node]
        if not isinstance(node, dict):
            return node
        tags = [k for k in node if k.startswith("$")]
        if not tags:
            return {k: self.decode(v) for k, v in node.items()}
        tag = tags[0]
        if tag == "$array" and set(node) <= {"$array", "scalar"}:
            array = self.array(node["$array"])
            return array[()] if node.get("scalar") is True else array
        if tag == "$module" and len(node) == 1 and isinstance(node[tag], dict):
            return self.module(node[tag], top)
        if tag == "$state_of" and set(node) == {"$state_of", "state"}:
            return self.decode(node["state"])
        if tag == "$dict" and len(node) == 1 and isinstance(node[tag], list) and all(
                isinstance(item, list) and len(item) == 2 for item in node[tag]):
            items = [(self.decode(k), self.decode(v)) for k, v in node[tag]]
            if not all(k is None or isinstance(k, (bool, int, float, str)) for k, _ in items):
                raise ModelFileError(f"{_META} has a dict key that is not a number or string")
            return dict(items)
        if tag == "$tuple" and len(node) == 1 and isinstance(node[tag], list):
            return tuple(self.decode(v) for v in node[tag])
        if tag == "$float" and len(node) == 1 and node[tag] in ("nan", "inf", "-inf"):
            return float(node[tag])
        raise ModelFileError(f"{_META} has a malformed {tag!r} entry: {node!r:.200}")

    def module(self, node: dict[str, Any], top: bool) -> ModuleBase | OrderedDict:
        state = node.get("state")
        if not isinstance(state, dict):
            raise ModelFileError(f"{_META}: a module without a valid 'state'")
        sizes = [self._size(index) for index in state.values()]
        architecture = node.get("architecture")
        model = None
        if self.build_modules and architecture is not None:
            try:
                with parameter_budget(sum(sizes)):
                    model = module_from_config(architecture)
            except (ValueError, TypeError) as err:
                raise ModelFileError(f"cannot rebuild the model: {err}") from err
        elif self.build_modules and top:
            raise ModelFileError(
                f"holds only weights (of a {node.get('class')} that nn.save could not "
                "describe); build the module yourself and call "
                "module.load_state_dict(nn.load_state_dict(path))"
            )
        weights = OrderedDict((key, self.array(index)) for key, index in state.items())
        if model is None:
            return weights
        # The constructors make default-dtype weights and buffers; a float64 model must come
        # back float64.
        tensors = dict(model._named_state())
        for key, array in weights.items():
            if key in tensors and tensors[key].dtype != array.dtype:
                tensors[key].data = tensors[key].data.astype(array.dtype)
        try:
            model.load_state_dict(weights, strict=True)
        except RuntimeError as err:
            raise ModelFileError(f"the weights do not fit the architecture: {err}") from err
        if isinstance(node.get("training"), bool):
            model.train(node["training"])
        return model

    def _size(self, index: Any) -> int:
        if type(index) is not int or not 0 <= index < len(self.entries):
            raise ModelFileError(f"{_META} refers to array {index!r:.50}, which does not exist")
        return math.prod(self.entries[index]["shape"])


def _check_local_header(file: IO[bytes], info: zipfile.ZipInfo) -> None:
    """The member's own header must agree with the directory (zipfile reads only the latter,
    other zip tools the former)."""
    file.seek(info.header_offset)
    header = file.read(30)
    if len(header) < 30:
        raise ModelFileError(f"the member {info.filename!r} starts past the end of the file")
    signature, _, flags, method, _, _, crc, compressed, size, _, _ = struct.unpack(
        "<4s5H3I2H", header)
    if signature != b"PK\x03\x04" or method != info.compress_type or flags != info.flag_bits \
            or crc != info.CRC or any(n not in (info.file_size, 0xFFFFFFFF)
                                      for n in (compressed, size)):
        raise ModelFileError(f"the local header of {info.filename!r} disagrees with the zip's "
                             "directory (method, flags, CRC or sizes)")


def _numeric_dtype(text: Any, what: str) -> np.dtype:
    try:
        dtype = np.dtype(text) if isinstance(text, str) else None
    except TypeError:
        dtype = None
    if dtype is None or dtype.kind not in "biuf" or dtype.fields is not None or dtype.shape:
        raise ModelFileError(f"{what} has the non-numeric dtype {text!r:.50}")
    return dtype


def _check_depth(node: Any) -> None:
    """Refuse JSON nested deeper than ``_MAX_DEPTH`` (walked without recursion)."""
    stack = [(node, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > _MAX_DEPTH:
            raise ModelFileError(f"{_META} is nested more than {_MAX_DEPTH} levels deep")
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)


def _upgrade_version_1(meta: dict[str, Any]) -> dict[str, Any]:
    """A version 1 manifest (one module or state_dict, no checksums) as a version 2 one."""
    keys = meta.get("keys")
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise ModelFileError(f"{_META} has no valid 'keys' list")
    arrays = [{"member": key + ".npy"} for key in keys]
    if meta.get("class") is None:
        content = {key: {"$array": i} for i, key in enumerate(keys)}
    else:
        content = {"$module": {"class": meta["class"], "training": meta.get("training"),
                               "architecture": meta.get("architecture"),
                               "state": {key: i for i, key in enumerate(keys)}}}
    return {"arrays": arrays, "content": content}


def load_state_dict(path: str | os.PathLike) -> OrderedDict[str, np.ndarray]:
    """The weights saved in ``path`` (a module or a state_dict) as an ordered ``{name: array}``,
    for ``module.load_state_dict(...)`` on a module you build yourself."""
    content = _read(path, "nn.load_state_dict", build_modules=False)
    if isinstance(content, dict) and all(isinstance(v, np.ndarray) for v in content.values()):
        return OrderedDict(content)
    raise ModelFileError(f"nn.load_state_dict: {str(Path(path))!r} holds a checkpoint, not one "
                         "module's weights; read it with nn.load(path)")


def load(path: str | os.PathLike) -> Any:
    """Read what ``nn.save`` wrote to ``path``: the model (rebuilt: architecture, weights and
    train/eval mode), or the checkpoint with its models rebuilt and its optimizers and
    schedulers as state_dicts."""
    return _read(path, "nn.load", build_modules=True)
