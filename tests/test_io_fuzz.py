"""Property-based fuzzing of the readers: a mutated structure file reads or fails in one plain line.

Random mutations of valid xyz, extended-XYZ, CIF and POSCAR text (truncation, byte flips,
NaN/inf tokens, huge counts, deleted and repeated lines) must either read into valid
Structures or raise SymcheckError whose message starts with the path: no other exception,
no internal exception names, no hang. Derandomized and bounded, so it is deterministic.
"""

import os
import re
import signal
import tempfile
from contextlib import contextmanager

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symcheck as sc
from symcheck import SymcheckError

XYZ = b"""3
water
O 0.000 0.000 0.119
H 0.000 0.763 -0.477
H 0.000 -0.763 -0.477
2
frame two
H 0.0 0.0 0.0
H 0.0 0.0 0.74
"""
EXTXYZ = b"""4
Lattice="4 0 0 0 4 0 0 0 4" Properties=species:S:1:pos:R:3:momenta:R:3:charge:R:1:label:I:1 pbc="T T T"
Ba 0.0 0.0 0.0 0.0 0.0 0.0 0.5 1
Ti 2.0 2.0 2.0 0.0 0.0 0.1 1.0 2
O 2.0 2.0 0.0 0.0 0.0 0.0 -0.5 3
O 2.0 0.0 2.0 0.0 0.0 0.0 -0.5 3
"""
CIF = b"""data_rutile
_cell_length_a 4.594
_cell_length_b 4.594
_cell_length_c 2.959
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 90
_symmetry_space_group_name_H-M 'P 42/m n m'
_symmetry_Int_Tables_number 136
loop_
_atom_site_label
_atom_site_type_symbol
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
_atom_site_occupancy
Ti1 Ti 0.0 0.0 0.0 1.0
O1 O 0.3053 0.3053 0.0 1.0
"""
POSCAR = b"""BaTiO3
1.0
4.0 0.0 0.0
0.0 4.0 0.0
0.0 0.0 4.0
Ba Ti O
1 1 3
Direct
0.0 0.0 0.0
0.5 0.5 0.5
0.5 0.5 0.0
0.5 0.0 0.5
0.0 0.5 0.5

0.0 0.0 0.0
0.0 0.0 0.1
0.0 0.0 0.0
0.0 0.0 0.0
0.0 0.0 0.0
"""
SEEDS = {"x.xyz": XYZ, "x.extxyz": EXTXYZ, "x.cif": CIF, "POSCAR": POSCAR}

TOKENS = [b"nan", b"NaN", b"inf", b"-inf", b"1e308", b"-1e400", b"0", b"-0", b"100000000", b"99999999999999999999",
          b"-7", b"", b"x", b"\xff\xfe", b"\x00", b"'", b'"', b"_cell_length_a", b"loop_", b"Direct", b"T"]
_NUMBER = re.compile(rb"-?\d+(?:\.\d*)?(?:e[-+]?\d+)?")

# Internal exception names that must never reach a user's message
INTERNAL = ("Traceback", "AssertionError", "Singular matrix", "broadcast", "IndexError", "KeyError", "TypeError",
            "ValueError", "has no attribute", "NoneType", "out of range", "codec can't")


@st.composite
def mutation(draw, data: bytes):
    """One mutation of ``data``: truncate, flip a byte, replace a number, delete/repeat a line, insert junk."""
    kind = draw(st.sampled_from(["truncate", "flip", "token", "count", "delete", "repeat", "insert"]))
    n = len(data)
    spans = [m.span() for m in _NUMBER.finditer(data)]
    if n == 0 or (kind in ("token", "count") and not spans):
        kind = "insert"
    if kind == "truncate":
        return data[: draw(st.integers(0, n))]
    if kind == "flip":
        i = draw(st.integers(0, n - 1))
        return data[:i] + bytes([draw(st.integers(0, 255))]) + data[i + 1:]
    if kind in ("token", "count"):
        if kind == "count":  # the integers: atom counts, counts lines, labels
            spans = [s for s in spans if b"." not in data[s[0]:s[1]]] or spans
        a, b = draw(st.sampled_from(spans))
        return data[:a] + draw(st.sampled_from(TOKENS)) + data[b:]
    lines = data.split(b"\n")
    k = draw(st.integers(0, len(lines) - 1))
    if kind == "delete":
        return b"\n".join(lines[:k] + lines[k + 1:])
    if kind == "repeat":
        return b"\n".join(lines[: k + 1] + lines[k:])
    junk = draw(st.binary(min_size=1, max_size=12) | st.sampled_from(TOKENS))
    return b"\n".join(lines[:k] + [junk] + lines[k:])


@st.composite
def mutated(draw):
    name = draw(st.sampled_from(sorted(SEEDS)))
    data = SEEDS[name]
    for _ in range(draw(st.integers(1, 3))):
        data = draw(mutation(data))
    return name, data


@contextmanager
def watchdog(seconds: int):
    """Turn a hang into a failure (a reader that loops forever would stop the whole test run).

    Not a timing assertion: every example takes milliseconds; only a real hang reaches the limit.
    """
    if not hasattr(signal, "SIGALRM"):
        yield
        return

    def hung(signum, frame):
        raise TimeoutError(f"the reader hung for {seconds} s")

    old = signal.signal(signal.SIGALRM, hung)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def check_read(path: str) -> None:
    """Read ``path``: valid Structures or one plain SymcheckError line that starts with the path."""
    try:
        with watchdog(120):
            frames = sc.read(path, index=":")
    except SymcheckError as exc:
        text = str(exc)
        assert text.startswith(path + ":"), text
        assert "\n" not in text and len(text) < 400, text
        for internal in INTERNAL:
            assert internal not in text, text
        return
    assert isinstance(frames, list) and frames
    for s in frames:
        assert isinstance(s, sc.Structure) and len(s) > 0
        assert np.all(np.isfinite(s.positions))
        if s.features is not None:
            assert np.all(np.isfinite(s.features))
        if s.periodic:
            assert np.all(np.isfinite(s.cell)) and abs(np.linalg.det(s.cell)) > 0


@settings(max_examples=400, derandomize=True, database=None, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_files_read_or_fail_plainly(case):
    name, data = case
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, name)
        with open(path, "wb") as f:
            f.write(data)
        check_read(path)


def test_seeds_are_valid():
    """The unmutated seeds read, so the mutations start from good files."""
    with tempfile.TemporaryDirectory() as tmp:
        for name, data in SEEDS.items():
            path = os.path.join(tmp, name)
            with open(path, "wb") as f:
                f.write(data)
            frames = sc.read(path, index=":")
            assert frames and all(len(s) for s in frames)
        assert len(sc.read(os.path.join(tmp, "x.xyz"), index=":")) == 2
        assert sc.read(os.path.join(tmp, "x.extxyz")).feature_names == ("charges", "label", "momenta")
        assert sc.read(os.path.join(tmp, "POSCAR")).feature_irreps == "1o"
