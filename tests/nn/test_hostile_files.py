"""Hostile and damaged model files: each ends in ModelFileError, with bounded memory.

Peak memory is measured with tracemalloc (numpy reports its array allocations to it), and must
stay under 100 MB in every case.
"""

import hashlib
import io
import json
import os
import signal
import struct
import subprocess
import sys
import textwrap
import tracemalloc
import zipfile
import zlib

import numpy as np
import pytest

import autograd_core as ag
import nn

PEAK_LIMIT = 100 * 2**20


def refused(path, match=None, reader=nn.load):
    """Assert ``reader(path)`` raises ModelFileError; return the peak traced memory in bytes."""
    tracemalloc.start()
    try:
        with pytest.raises(nn.ModelFileError, match=match):
            reader(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < PEAK_LIMIT, f"peak {peak / 2**20:.1f} MB"
    return peak


def npy_header(shape, dtype="<f4"):
    buffer = io.BytesIO()
    header = {"descr": dtype, "fortran_order": False, "shape": tuple(shape)}
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue()


def manifest(content, arrays):
    return json.dumps({"format": "nn-model", "version": 2, "content": content, "arrays": arrays})


def entry(member, shape, data=b"", dtype="<f4"):
    return {"member": member, "dtype": dtype, "shape": list(shape),
            "sha256": hashlib.sha256(data).hexdigest()}


def test_a_deflated_member_is_refused_before_inflating(tmp_path):
    path = tmp_path / "bomb.nnz"
    shape = (2**26,)  # 256 MiB of float32 zeros, 250 kB deflated
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("model.json", manifest({"w": {"$array": 0}}, [entry("w.npy", shape)]))
        info = zipfile.ZipInfo("w.npy")
        info.compress_type = zipfile.ZIP_DEFLATED
        with archive.open(info, "w", force_zip64=True) as member:
            member.write(npy_header(shape))
            zeros = bytes(2**24)
            for _ in range(2**28 // len(zeros)):
                member.write(zeros)
    assert path.stat().st_size < 2**20
    refused(path, r"'w.npy' is compressed \(zip method 8\).*nothing will be inflated")


def test_a_tiny_file_declaring_a_huge_layer_fails_fast(tmp_path):
    weight, bias = np.zeros((1, 1), np.float32), np.zeros(1, np.float32)
    architecture = {"class": "Linear", "config": {"in_features": 50000, "out_features": 50000}}
    content = {"$module": {"class": "Linear", "training": True, "architecture": architecture,
                           "state": {"weight": 0, "bias": 1}}}
    arrays = [entry("weight.npy", (1, 1), weight.tobytes()),
              entry("bias.npy", (1,), bias.tobytes())]
    path = tmp_path / "huge.nnz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("model.json", json.dumps({"format": "nn-model", "version": 2,
                                                   "content": content, "arrays": arrays}))
        archive.writestr("weight.npy", npy_header((1, 1)) + weight.tobytes())
        archive.writestr("bias.npy", npy_header((1,)) + bias.tobytes())
    assert path.stat().st_size < 1100
    refused(path, r"cannot rebuild the model: a weight of shape \(50000, 50000\) needs "
                  r"2500000000 values, but only 2 are left")

    # The manifest and the .npy header may both declare the huge shape: the data is not there.
    arrays[0] = entry("weight.npy", (50000, 50000))
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("model.json", json.dumps({"format": "nn-model", "version": 2,
                                                   "content": content, "arrays": arrays}))
        archive.writestr("weight.npy", npy_header((50000, 50000)) + weight.tobytes())
        archive.writestr("bias.npy", npy_header((1,)) + bias.tobytes())
    refused(path, r"the arrays declare 10000000004 bytes, more than the whole file")


HUGE_LAYERS = {
    "Embedding": {"num_embeddings": 10**6, "embedding_dim": 10**4},
    "LSTM": {"input_size": 50000, "hidden_size": 50000},
    "BatchNorm1d": {"num_features": 10**9},
    "LayerNorm": {"normalized_shape": [10**5, 10**5]},
    "RBM": {"n_visible": 50000, "n_hidden": 50000, "verbose": 0},
    "MLP": {"sizes": [50000, 50000, 10]},
}


@pytest.mark.parametrize("name", sorted(HUGE_LAYERS))
def test_tiny_files_declaring_huge_layers_of_every_kind_fail_fast(tmp_path, name):
    one = np.zeros(1, np.float32)
    architecture = {"class": name, "config": HUGE_LAYERS[name]}
    content = {"$module": {"class": name, "training": False, "architecture": architecture,
                           "state": {"weight": 0}}}
    path = tmp_path / "huge.nnz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("model.json", manifest(content, [entry("w.npy", (1,), one.tobytes())]))
        archive.writestr("w.npy", npy_header((1,)) + one.tobytes())
    refused(path, r"cannot rebuild the model: a weight of shape .* needs \d+ values, but only "
                  r"1 are left")


@pytest.mark.parametrize("levels", [400, 100_000])
def test_deeply_nested_json_is_refused(tmp_path, levels):
    path = tmp_path / "deep.nnz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("model.json", '{"format": "nn-model", "version": 2, "arrays": [], '
                                       '"content": ' + "[" * levels + "]" * levels + "}")
    refused(path, "nested (more than 100 levels|too) deep")


@pytest.mark.parametrize("levels", [40, 400])
def test_deeply_nested_architectures_are_refused(tmp_path, levels):
    architecture = ('{"class": "Sequential", "config": {"layers": [' * levels +
                    '{"class": "Identity", "config": {}}' + "]}}" * levels)
    path = tmp_path / "deep.nnz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("model.json", manifest("ARCHITECTURE", []).replace(
            '"ARCHITECTURE"', '{"$module": {"class": "Sequential", "training": true, '
                              '"state": {}, "architecture": ' + architecture + "}}"))
    refused(path, "nested (more than 100 levels|too) deep")


def test_oversized_json_is_refused_before_reading(tmp_path):
    path = tmp_path / "big.nnz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("model.json", manifest(" " * (17 * 2**20), []))
    refused(path, "model.json is implausibly large")


def saved_model(tmp_path, name="model.nnz"):
    ag.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)).eval()
    path = tmp_path / name
    nn.save(model, path)
    return model, path


def header_fields(data):
    """(name, offset, size) of each field of every local header, central header and the end
    records of a zip written by nn.save."""
    local = [("signature", 0, 4), ("version", 4, 2), ("flags", 6, 2), ("method", 8, 2),
             ("time", 10, 2), ("date", 12, 2), ("crc", 14, 4), ("compressed size", 18, 4),
             ("size", 22, 4), ("name length", 26, 2), ("extra length", 28, 2)]
    central = [("signature", 0, 4), ("made by", 4, 2), ("version", 6, 2), ("flags", 8, 2),
               ("method", 10, 2), ("time", 12, 2), ("date", 14, 2), ("crc", 16, 4),
               ("compressed size", 20, 4), ("size", 24, 4), ("name length", 28, 2),
               ("extra length", 30, 2), ("comment length", 32, 2), ("disk", 34, 2),
               ("internal attributes", 36, 2), ("external attributes", 38, 4),
               ("local header offset", 42, 4)]
    end = [("signature", 0, 4), ("disk", 4, 2), ("central disk", 6, 2), ("entries here", 8, 2),
           ("entries", 10, 2), ("central size", 12, 4), ("central offset", 16, 4),
           ("comment length", 20, 2)]
    fields = []
    for signature, layout, kind in ((b"PK\x03\x04", local, "local"),
                                    (b"PK\x01\x02", central, "central"),
                                    (b"PK\x05\x06", end, "end")):
        start = data.find(signature)
        while start >= 0:
            fields += [(f"{kind}@{start}:{name}", start + offset, size)
                       for name, offset, size in layout]
            if kind == "local":  # also each member's zip64 extra field (sizes)
                name_length, extra_length = struct.unpack_from("<HH", data, start + 26)
                if extra_length:
                    fields.append((f"{kind}@{start}:zip64 extra", start + 30 + name_length,
                                   extra_length))
            start = data.find(signature, start + 4)
    return fields


def test_every_changed_header_field_loads_identically_or_is_refused(tmp_path):
    model, path = saved_model(tmp_path)
    data = path.read_bytes()
    fields = header_fields(data)
    assert sum(name.startswith("local") for name, _, _ in fields) > 20
    x = ag.randn(4, 3)
    expected = model(x).data
    bad = tmp_path / "bad.nnz"
    outcomes = {"refused": 0, "harmless": 0}
    tracemalloc.start()
    try:
        for name, offset, size in fields:
            for change in (b"\xff" * size, bytes([data[offset] ^ 0x01]) +
                           data[offset + 1:offset + size]):
                bad.write_bytes(data[:offset] + change + data[offset + size:])
                try:
                    loaded = nn.load(bad)
                except nn.ModelFileError:
                    outcomes["refused"] += 1
                else:  # fields zipfile does not use (times, local copies of sizes and CRCs)
                    np.testing.assert_array_equal(loaded(x).data, expected, err_msg=name)
                    outcomes["harmless"] += 1
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < PEAK_LIMIT and outcomes["refused"] > 100 and outcomes["harmless"] > 0


def replace_member(data, name, new_member_data, fix_crc):
    """``data`` with member ``name``'s stored bytes replaced (same length), CRCs fixed or not."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        local = archive.getinfo(name).header_offset
    name_length, extra_length = struct.unpack_from("<HH", data, local + 26)
    start = local + 30 + name_length + extra_length
    data = data[:start] + new_member_data + data[start + len(new_member_data):]
    if fix_crc:
        central = data.find(b"PK\x01\x02")
        while data[central + 46:central + 46 + len(name)] != name.encode():
            central = data.find(b"PK\x01\x02", central + 4)
        crc = struct.pack("<I", zlib.crc32(new_member_data))
        for offset in (local + 14, central + 16):
            data = data[:offset] + crc + data[offset + 4:]
    return data


def test_a_flipped_bit_in_any_array_is_caught(tmp_path):
    _, path = saved_model(tmp_path)
    data = path.read_bytes()
    with zipfile.ZipFile(path) as archive:
        member = archive.read("0.weight.npy")
    header = len(member) - 12 * 4
    bad = tmp_path / "flipped.nnz"
    for position in range(header, len(member)):
        bit = 1 << (position % 8)
        flipped = member[:position] + bytes([member[position] ^ bit]) + member[position + 1:]
        bad.write_bytes(replace_member(data, "0.weight.npy", flipped, fix_crc=False))
        refused(bad, "Bad CRC-32")  # zipfile's CRC-32 of the member
        bad.write_bytes(replace_member(data, "0.weight.npy", flipped, fix_crc=True))
        refused(bad, "'0.weight.npy' does not match its SHA-256 checksum")
        refused(bad, "SHA-256", reader=nn.load_state_dict)


def test_overlapping_and_oversized_members_are_refused(tmp_path):
    _, path = saved_model(tmp_path)
    data = bytearray(path.read_bytes())
    central = data.find(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 42, 0)  # first member's offset -> 0
    struct.pack_into("<I", data, central + 24, 2**31)  # its size: larger than the file
    struct.pack_into("<I", data, central + 20, 2**31)
    bad = tmp_path / "oversized.nnz"
    bad.write_bytes(bytes(data))
    refused(bad, "declares 2147483648 bytes, which do not fit in the file")

    with zipfile.ZipFile(path) as archive:  # every member points at the same bytes
        members = archive.infolist()
    overlap = tmp_path / "overlap.nnz"
    with zipfile.ZipFile(overlap, "w") as archive:
        big = b"x" * 4096
        archive.writestr("model.json", big)
        for info in members[1:]:
            archive.writestr(info.filename, b"")
    data = bytearray(overlap.read_bytes())
    first = data.find(b"PK\x01\x02")
    size_and_crc = data[first + 16:first + 28]
    position = data.find(b"PK\x01\x02", first + 4)
    while position >= 0:
        data[position + 16:position + 28] = size_and_crc
        struct.pack_into("<I", data, position + 42, 0)
        position = data.find(b"PK\x01\x02", position + 4)
    overlap.write_bytes(bytes(data))
    refused(overlap, "overlapping members")


def test_encrypted_and_malformed_manifests_are_refused(tmp_path):
    _, path = saved_model(tmp_path)
    data = bytearray(path.read_bytes())
    central = data.find(b"PK\x01\x02")
    data[central + 8] |= 1
    bad = tmp_path / "encrypted.nnz"
    bad.write_bytes(bytes(data))
    refused(bad, "'model.json' is encrypted")

    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    meta = json.loads(members["model.json"])
    module = meta["content"]["$module"]
    cases = {
        "missing": ({**meta, "arrays": meta["arrays"][:1]}, "refers to array 1, which does not"),
        "dtype": ({**meta, "arrays": [{**meta["arrays"][0], "dtype": "|O"}] + meta["arrays"][1:]},
                  "non-numeric dtype '|O'"),
        "subarray": ({**meta, "arrays": [{**meta["arrays"][0], "dtype": "(2,)<f4"}]},
                     "non-numeric dtype"),
        "shape": ({**meta, "arrays": [{**meta["arrays"][0], "shape": [-1, 3]}]}, "invalid shape"),
        "sha": ({**meta, "arrays": [{**meta["arrays"][0], "sha256": "0"}]}, "no valid sha256"),
        "tag": ({**meta, "content": {"$eval": "os.system('x')"}}, "malformed '\\$eval'"),
        "state": ({**meta, "content": {"$module": {**module, "state": [0]}}}, "valid 'state'"),
        "version": ({**meta, "version": True}, "invalid format version"),
        "content": ({k: v for k, v in meta.items() if k != "content"}, "no valid 'arrays' list"),
        "member": ({**meta, "arrays": [{**meta["arrays"][0], "member": "../etc/passwd"}]},
                   "'../etc/passwd' is missing"),
    }
    for name, (changed, match) in cases.items():
        bad = tmp_path / f"{name}.nnz"
        with zipfile.ZipFile(bad, "w") as archive:
            for member, content in {**members, "model.json": json.dumps(changed)}.items():
                archive.writestr(member, content)
        refused(bad, match)


KILLED_SAVE = textwrap.dedent("""
    import os, signal, sys
    import nn
    from nn import serialization

    def killed_halfway(file, meta_bytes, arrays):
        file.write(b"half a file")
        file.flush()
        os.kill(os.getpid(), signal.SIGKILL)

    serialization._write_archive = killed_halfway
    nn.save(nn.Linear(2, 2), sys.argv[1])
""")


def test_a_killed_save_leaves_a_temp_file_that_the_next_save_removes(tmp_path):
    model, path = saved_model(tmp_path)
    result = subprocess.run([sys.executable, "-c", KILLED_SAVE, str(path)],
                            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert result.returncode == -signal.SIGKILL
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert len(leftovers) == 1 and leftovers[0].startswith(".model.nnz.")
    # A save in progress elsewhere (a live process) keeps its temporary file.
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        live = tmp_path / f".model.nnz.{sleeper.pid}-abc.tmp"
        live.write_bytes(b"in progress")
        nn.save(model, path)
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["model.nnz", live.name])
    finally:
        sleeper.kill()
        sleeper.wait()
    nn.save(model, path)
    assert [p.name for p in tmp_path.iterdir()] == ["model.nnz"]
    x = ag.randn(2, 3)
    np.testing.assert_array_equal(nn.load(path)(x).data, model(x).data)
