"""The on-disk construction cache (symcheck.training.cache): reused when intact, rebuilt when not, never wrong.

A cold ``symcheck train`` loads the network's Wigner 3j tables, activation constants and dense
operators from the cache instead of computing them (issue 14). These tests build a network and a
geometry with an empty cache, again from the files, and again after damaging the files in
several ways; the operators and outputs must be the same every time.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from symcheck.training import cache, dense, gate, spec  # noqa: E402
from symcheck.training.equivariance import default_dtype  # noqa: E402
from symcheck.training.gate import softplus_beta5  # noqa: E402
from symcheck.training.network import SeedNet  # noqa: E402

IRREPS = "0e+1o+2e+3o"


@pytest.fixture
def folder(tmp_path, monkeypatch) -> Path:
    """An empty cache folder, and nothing of the network's construction remembered in this process."""
    monkeypatch.setenv(cache.ENV, str(tmp_path / "cache"))
    _forget()
    yield tmp_path / "cache"
    _forget()


def _forget() -> None:
    gate._GATE_LAYOUTS.clear()  # a layout holds its three activation constants
    spec._W3J.clear()
    spec._ACT_CONSTANTS.clear()
    dense._W3J.clear()
    dense._MEMO.clear()


def _build():
    """A network, its dense geometry on 5 fixed points, and its output: (operators, output)."""
    with default_dtype(torch.float64):
        torch.manual_seed(0)
        net = SeedNet(IRREPS, IRREPS, network_lmax=2)
        gen = torch.Generator().manual_seed(1)
        pos = torch.randn(5, 3, generator=gen, dtype=torch.float64)
        x = torch.randn(5, net.irreps_in.dim, generator=gen, dtype=torch.float64)
        geo = net.geometry(pos, x, graph="dense")
        with torch.no_grad():
            out = net(x, geo)
        ops = [(lay.m.to_dense(), lay.mt.to_dense(), lay.copy_of_row, lay.gather) for lay in geo.layers]
    return ops, out


def _same(a, b) -> bool:
    (ops_a, out_a), (ops_b, out_b) = a, b
    for la, lb in zip(ops_a, ops_b, strict=True):
        for ta, tb in zip(la, lb, strict=True):
            if (ta is None) != (tb is None) or (ta is not None and not torch.equal(ta, tb)):
                return False
    return torch.equal(out_a, out_b)


def _files(folder: Path, kind: str) -> list[Path]:
    return sorted(folder.glob(f"{kind}-*.npz"))


def test_first_build_writes_the_cache_and_the_second_reads_it(folder, monkeypatch):
    fresh = _build()
    assert len(_files(folder, "dense")) == 1 and len(_files(folder, "w3j")) == 1 and len(_files(folder, "act")) == 4
    _forget()
    # a second build must not compute anything the files hold
    monkeypatch.setattr(spec, "_compute_wigner_3j", lambda *a: pytest.fail("3j recomputed"))
    monkeypatch.setattr(dense, "dense_operator", lambda *a: pytest.fail("operator recomputed"))
    assert _same(_build(), fresh)
    assert spec.act_constant(softplus_beta5) == pytest.approx(1.4064348835548617, rel=1e-15)


def _damage(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "garbage":
        path.write_bytes(b"not a zip file")
    elif how == "flipped":  # one byte of the stored numbers changed: the zip checksum fails
        arrays = dict(np.load(path, allow_pickle=False))
        with zipfile.ZipFile(path) as z:
            info = max(z.infolist(), key=lambda i: i.file_size)
        b = bytearray(data)
        b[info.header_offset + 30 + len(info.filename) + info.file_size // 2] ^= 0xFF
        path.write_bytes(bytes(b))
        assert arrays  # it was readable before
    elif how == "wrong key":  # a readable file stored under another key (a hash collision)
        arrays = dict(np.load(path, allow_pickle=False))
        arrays["__key__"] = np.array("something else")
        with open(path, "wb") as f:
            np.savez(f, **arrays)
    elif how == "inconsistent":  # readable, same key, but an index out of range
        arrays = dict(np.load(path, allow_pickle=False))
        if "ints" in arrays:  # layer 0's column indices beyond the operator's width
            sizes = arrays["sizes"]
            arrays["ints"][sizes[0]:sizes[0] + sizes[1]] += 10_000
        else:
            name = max((k for k in arrays if k != "__key__"), key=lambda k: arrays[k].size)
            arrays[name] = arrays[name][:1]  # a 3j table of the wrong shape
        with open(path, "wb") as f:
            np.savez(f, **arrays)


@pytest.mark.parametrize("how", ["truncated", "garbage", "flipped", "wrong key", "inconsistent"])
def test_a_damaged_cache_is_rebuilt_not_used(folder, how, monkeypatch):
    fresh = _build()
    for kind in ("dense", "w3j"):
        for path in _files(folder, kind):
            _damage(path, how)
    _forget()
    calls = {"operator": 0, "3j": 0}
    operator, w3j = dense.dense_operator, spec._compute_wigner_3j

    def counted_operator(*args):
        calls["operator"] += 1
        return operator(*args)

    def counted_3j(*args):
        calls["3j"] += 1
        return w3j(*args)

    monkeypatch.setattr(dense, "dense_operator", counted_operator)
    monkeypatch.setattr(spec, "_compute_wigner_3j", counted_3j)
    assert _same(_build(), fresh)
    assert calls["operator"] > 0 and calls["3j"] > 0  # both were rebuilt, not read
    _forget()  # and the rebuilt files are good again
    calls.update(operator=0, **{"3j": 0})
    assert _same(_build(), fresh)
    assert calls == {"operator": 0, "3j": 0}


def test_cache_off_writes_nothing_and_an_unwritable_folder_is_ignored(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.ENV, "off")
    _forget()
    fresh = _build()
    assert cache.cache_dir() is None
    blocked = tmp_path / "file"
    blocked.write_text("a file where the cache folder would be")
    monkeypatch.setenv(cache.ENV, str(blocked / "cache"))
    _forget()
    assert _same(_build(), fresh)
    assert not list(tmp_path.glob("**/*.npz")) and not list(tmp_path.glob("**/*.tmp"))
    _forget()


def test_default_folder_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.delenv(cache.ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache.cache_dir() == tmp_path / "symcheck"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache.cache_dir() == Path(os.path.expanduser("~")) / ".cache" / "symcheck"


def test_key_includes_the_code_and_versions():
    assert "torch" in cache.version() and "numpy" in cache.version() and "source" in cache.version()
    assert set(cache.SOURCES) >= {"training/spec.py", "training/dense.py", "o3.py"}


def test_the_folder_is_bounded_least_recently_used_first(folder, monkeypatch):
    """Files of other geometries and older code do not pile up: past $SYMCHECK_CACHE_MAX_MB the least
    recently used go (a load counts as a use), never the file just written."""
    import time

    folder.mkdir(parents=True)
    monkeypatch.setenv(cache.MAX_ENV, "0.25")  # 250 kB
    blob = {"x": np.zeros(10_000)}  # 80 kB a file
    for k in range(3):
        cache.store("test", f"geometry {k}", blob)
    assert len(_files(folder, "test")) == 3
    older = time.time() - 100
    for k, path in enumerate(_files(folder, "test")):
        os.utime(path, (older + k, older + k))  # all used long ago
    assert cache.load("test", "geometry 0") is not None  # used now: kept
    cache.store("test", "geometry 3", blob)  # 4 × 80 kB > 250 kB: one file goes
    left = {k for k in range(4) if cache.load("test", f"geometry {k}") is not None}
    assert len(left) == 3 and {0, 3} <= left
    monkeypatch.setenv(cache.MAX_ENV, "0")
    cache.store("test", "geometry 4", blob)
    assert [cache.load("test", f"geometry {k}") is not None for k in range(5)] == [False] * 4 + [True]
