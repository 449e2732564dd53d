"""nn.save / nn.load: round trips, custom modules, refusal of pickles, atomic saves, corrupt
files."""

import hashlib
import io
import json
import zipfile

import numpy as np
import pytest

import autograd_core as ag
import nn
from nn import serialization


def make_model():
    return nn.Sequential(nn.Flatten(), nn.Linear(16, 8), nn.LeakyReLU(0.1), nn.Dropout(0.2),
                         nn.Linear(8, 4, bias=False), nn.Tanh(), nn.Linear(4, 3), nn.Sigmoid(),
                         nn.Softmax(dim=1), nn.Identity(), nn.ReLU())


@pytest.fixture
def saved(tmp_path):
    ag.manual_seed(0)
    model = make_model().eval()
    path = tmp_path / "model.nnz"
    nn.save(model, path)
    return model, path


def test_round_trip_gives_equal_predictions(saved):
    model, path = saved
    loaded = nn.load(path)
    assert repr(loaded) == repr(model) and not loaded.training
    x = ag.randn(5, 4, 4)
    np.testing.assert_array_equal(loaded(x).data, model(x).data)
    weights = nn.load_state_dict(path)
    assert list(weights) == list(model.state_dict())
    for key, value in model.state_dict().items():
        assert weights[key].dtype == value.dtype
        np.testing.assert_array_equal(weights[key], value)


def test_the_file_is_a_zip_of_json_and_npy(saved):
    model, path = saved
    with zipfile.ZipFile(path) as archive:
        meta = json.loads(archive.read("model.json"))
        assert meta["format"] == "nn-model" and meta["version"] == 2
        module = meta["content"]["$module"]
        assert module["architecture"]["class"] == "Sequential"
        assert list(module["state"]) == list(model.state_dict())
        assert sorted(archive.namelist()) == sorted(["model.json"] +
                                                    [k + ".npy" for k in module["state"]])
        assert all(info.compress_type == zipfile.ZIP_STORED for info in archive.infolist())
    entry = meta["arrays"][module["state"]["1.weight"]]
    weight = model.state_dict()["1.weight"]
    assert entry == {"member": "1.weight.npy", "dtype": "<f4", "shape": [8, 16],
                     "sha256": hashlib.sha256(weight).hexdigest()}


def test_version_1_files_are_still_read(saved, tmp_path):
    model, _ = saved
    state = model.state_dict()
    meta = {"format": "nn-model", "version": 1, "architecture": nn.module.module_to_config(model),
            "class": "Sequential", "training": False, "keys": list(state)}
    old = tmp_path / "v1.nnz"
    write_zip(old, {"model.json": json.dumps(meta),
                    **{k + ".npy": npy_bytes(np.asfortranarray(v)) for k, v in state.items()}})
    x = ag.randn(3, 16)
    np.testing.assert_array_equal(nn.load(old)(x).data, model(x).data)
    bare = tmp_path / "v1-state.nnz"
    write_zip(bare, {"model.json": json.dumps({**meta, "class": None, "architecture": None}),
                     **{k + ".npy": npy_bytes(v) for k, v in state.items()}})
    assert list(nn.load_state_dict(bare)) == list(state)


def test_training_mode_and_dtypes_are_restored(tmp_path):
    model = make_model()
    model[1].weight.data = model[1].weight.data.astype(np.float64)
    nn.save(model, tmp_path / "m")
    loaded = nn.load(tmp_path / "m")
    assert loaded.training
    assert loaded[1].weight.dtype == np.float64 and loaded[1].bias.dtype == np.float32


class Custom(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 2)
        self.scale = nn.Parameter(np.array([2.0]))

    def forward(self, x):
        return self.fc(x) * self.scale


def test_custom_modules_save_their_weights(tmp_path):
    path = tmp_path / "custom.nnz"
    model = Custom()
    nn.save(model, path)
    with pytest.raises(nn.ModelFileError, match=r"holds only weights \(of a Custom.*"
                                                 r"nn.load_state_dict"):
        nn.load(path)
    fresh = Custom()
    fresh.load_state_dict(nn.load_state_dict(path))
    np.testing.assert_array_equal(fresh.fc.weight.data, model.fc.weight.data)
    assert fresh.scale.dtype == np.float64
    nn.save(model.state_dict(), tmp_path / "state.nnz")  # a bare state_dict is accepted too
    assert list(nn.load_state_dict(tmp_path / "state.nnz")) == ["scale", "fc.weight", "fc.bias"]


@nn.register_module(name="test_serialization.Scaled")
class Scaled(nn.Module):
    def __init__(self, n: int, scale: float = 2.0):
        super().__init__()
        self.n, self.scale = n, scale
        self.body = nn.Sequential(nn.Linear(n, n), nn.ReLU())

    def get_config(self):
        return {"n": self.n, "scale": self.scale}

    def forward(self, x):
        return self.body(x) * self.scale


def test_registered_custom_modules_round_trip(tmp_path):
    model = nn.Sequential(Scaled(3, scale=0.5), nn.Linear(3, 1))
    nn.save(model, tmp_path / "scaled.nnz")
    loaded = nn.load(tmp_path / "scaled.nnz")
    assert isinstance(loaded[0], Scaled) and loaded[0].scale == 0.5
    x = ag.randn(2, 3)
    np.testing.assert_array_equal(loaded(x).data, model(x).data)


class Trap:
    """Unpickling this would call Trap.spring: the test checks it never happens."""

    sprung = False

    @classmethod
    def spring(cls):
        cls.sprung = True
        return "sprung"

    def __reduce__(self):
        return (Trap.spring, ())


def write_zip(path, members):
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def npy_bytes(array, allow_pickle=False):
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


def test_a_file_carrying_pickled_objects_is_refused_and_nothing_runs(saved, tmp_path):
    _, path = saved
    bad = tmp_path / "bad.nnz"
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members["1.weight.npy"] = npy_bytes(np.array([Trap()], dtype=object), allow_pickle=True)
    write_zip(bad, members)
    for reader in (nn.load, nn.load_state_dict):
        with pytest.raises(nn.ModelFileError, match=r"bad.nnz.*'1.weight.npy' holds Python "
                                                     r"objects.*refusing"):
            reader(bad)
    assert not Trap.sprung

    import pickle

    plain_pickle = tmp_path / "pickled.nnz"
    plain_pickle.write_bytes(pickle.dumps(Trap()))
    with pytest.raises(nn.ModelFileError, match="pickled.nnz.*is not a readable nn model file"):
        nn.load(plain_pickle)
    assert not Trap.sprung


def test_save_is_atomic(saved, monkeypatch, tmp_path):
    model, path = saved
    before = path.read_bytes()

    def crash_halfway(file, meta_bytes, state):
        file.write(before[: len(before) // 2])
        raise KeyboardInterrupt("power cut")

    monkeypatch.setattr(serialization, "_write_archive", crash_halfway)
    changed = make_model()
    with pytest.raises(KeyboardInterrupt):
        nn.save(changed, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.nnz"]  # no temporary file left
    x = ag.randn(2, 16)
    np.testing.assert_array_equal(nn.load(path)(x).data, model(x).data)


def test_save_keeps_permissions_and_refuses_missing_folders(saved, tmp_path):
    model, path = saved
    path.chmod(0o640)
    nn.save(model, path)
    assert path.stat().st_mode & 0o777 == 0o640
    with pytest.raises(FileNotFoundError, match="does not exist"):
        nn.save(model, tmp_path / "missing" / "m.nnz")
    with pytest.raises(FileNotFoundError, match="no such file"):
        nn.load(tmp_path / "absent.nnz")


def test_truncated_and_corrupted_files_give_clear_errors(saved, tmp_path):
    _, path = saved
    data = path.read_bytes()
    truncated = tmp_path / "truncated.nnz"
    truncated.write_bytes(data[: len(data) - 300])
    with pytest.raises(nn.ModelFileError, match="truncated.nnz.*not a readable nn model file"):
        nn.load(truncated)

    corrupted = tmp_path / "corrupted.nnz"
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("1.weight.npy")
    flip = info.header_offset + 30 + len(info.filename) + len(info.extra) + 200  # in the data
    corrupted.write_bytes(data[:flip] + bytes([data[flip] ^ 0xFF]) + data[flip + 1:])
    with pytest.raises(nn.ModelFileError, match="corrupted.nnz.*(CRC|corrupted)"):
        nn.load_state_dict(corrupted)


def test_inconsistent_contents_are_refused(saved, tmp_path):
    _, path = saved
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    meta = json.loads(members["model.json"])

    def variant(name, **changes):
        out = tmp_path / name
        write_zip(out, {**members, **changes})
        return out

    short = npy_bytes(np.zeros((8, 16), np.float32))[:-8]  # header says 512 bytes, 504 follow
    with pytest.raises(nn.ModelFileError, match=r"holds 504 bytes of data, but its header"):
        nn.load(variant("short.nnz", **{"1.weight.npy": short}))
    with pytest.raises(nn.ModelFileError, match="newer than this nn reads"):
        nn.load(variant("new.nnz", **{"model.json": json.dumps({**meta, "version": 99})}))
    with pytest.raises(nn.ModelFileError, match="not valid JSON"):
        nn.load(variant("json.nnz", **{"model.json": "{"}))
    module = meta["content"]["$module"]

    def with_module(**changes):
        return json.dumps({**meta, "content": {"$module": {**module, **changes}}})

    unknown = with_module(architecture={"class": "os.system", "config": {}})
    with pytest.raises(nn.ModelFileError, match="unknown module class 'os.system'"):
        nn.load(variant("unknown.nnz", **{"model.json": unknown}))
    wrong = npy_bytes(np.zeros((3, 3), np.float32))
    with pytest.raises(nn.ModelFileError, match=r"'1.weight.npy' holds \(3, 3\) float32, but "
                                                 r"model.json declares \(8, 16\) float32"):
        nn.load(variant("header.nnz", **{"1.weight.npy": wrong}))

    def with_weight(name, array):  # the manifest agrees with the array, the architecture not
        entries = [dict(e) for e in meta["arrays"]]
        entries[module["state"]["1.weight"]].update(
            shape=list(array.shape), sha256=hashlib.sha256(array).hexdigest())
        return variant(name, **{"1.weight.npy": npy_bytes(array),
                                "model.json": json.dumps({**meta, "arrays": entries})})

    with pytest.raises(nn.ModelFileError, match=r"cannot rebuild the model: a weight of "
                                                 r"shape \(8, 16\) needs 128 values"):
        nn.load(with_weight("small.nnz", np.zeros((3, 3), np.float32)))
    with pytest.raises(nn.ModelFileError, match="weights do not fit the architecture.*"
                                                 r"'1.weight'.*\(16, 8\)"):
        nn.load(with_weight("swapped.nnz", np.zeros((16, 8), np.float32)))
    not_ours = tmp_path / "other.zip"
    write_zip(not_ours, {"a.txt": "hello"})
    with pytest.raises(nn.ModelFileError, match="not a file written by nn.save"):
        nn.load(not_ours)
