#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the golden .npy files under tests/data/npy/ with NumPy itself.

The io tests (tests/test_io.cpp) read these files and compare them with
values written out in the test, and compare what fp8::io::serialize_npy
writes with NumPy's bytes, so the files must come from an independent
implementation: NumPy's own numpy.save / numpy.lib.format.write_array.
The generated files are committed; the tests do not need NumPy.

Run with Debian's NumPy (python3-numpy, 1.24 on Debian 12):
    /usr/bin/python3 tests/data/make_npy.py
The output is deterministic: running it again leaves git clean.
"""
import os
import sys

import numpy as np
from numpy.lib import format as npf

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "npy")


def save(name, array, **kw):
    path = os.path.join(OUT, name + ".npy")
    with open(path, "wb") as f:
        if kw:
            npf.write_array(f, array, **kw)
        else:
            np.save(f, array, allow_pickle=False)
    return path


def main():
    os.makedirs(OUT, exist_ok=True)

    # One file per supported little-endian descr, C order.
    save("f4_2x3", np.array([[1.5, -2.0, 0.0], [3.25, 1e-3, -0.0]], dtype="<f4"))
    save("f8_4", np.array([0.1, -1e300, np.inf, np.nan], dtype="<f8"))
    save("f2_6", np.array([1.0, -2.5, 65504.0, 6e-8, np.inf, -0.0], dtype="<f2"))
    save("c8_2", np.array([1 + 2j, -0.5 - 4j], dtype="<c8"))
    save("i1_4", np.array([-128, -1, 0, 127], dtype="|i1"))
    save("u1_3", np.array([0, 1, 255], dtype="|u1"))
    save("i2_3", np.array([-32768, -2, 32767], dtype="<i2"))
    save("u2_2", np.array([0, 65535], dtype="<u2"))
    save("i4_3", np.array([-2147483648, 7, 2147483647], dtype="<i4"))
    save("u4_2", np.array([0, 4294967295], dtype="<u4"))
    save("i8_2", np.array([-9223372036854775808, 9223372036854775807], dtype="<i8"))
    save("u8_2", np.array([1, 18446744073709551615], dtype="<u8"))
    save("b1_3", np.array([True, False, True], dtype="|b1"))

    # Shapes: 0-d, empty, 4-d.
    save("f4_scalar", np.array(3.5, dtype="<f4"))
    save("f4_0x3", np.zeros((0, 3), dtype="<f4"))
    save("i2_2x1x3x2", np.arange(12, dtype="<i2").reshape(2, 1, 3, 2))

    # Fortran order: written as stored (column-major) with fortran_order True;
    # the *_c twins hold the same arrays C-contiguous, which is what a reader
    # that returns row-major data must reproduce.
    a = np.asfortranarray(np.arange(24, dtype="<i4").reshape(2, 3, 4))
    assert a.flags.f_contiguous and not a.flags.c_contiguous
    save("i4_2x3x4_fortran", a)
    save("i4_2x3x4_fortran_c", np.ascontiguousarray(a))
    t = np.arange(6, dtype="<f4").reshape(3, 2).T  # a transpose: F-contiguous
    assert t.flags.f_contiguous and not t.flags.c_contiguous
    save("f4_2x3_transposed", t)
    save("f4_2x3_transposed_c", np.ascontiguousarray(t))

    # Big-endian descrs and their little-endian twins.
    for name, arr in [("f4_be", np.array([1.5, -2.0, 1e-3], dtype=">f4")),
                      ("i8_be", np.array([-2, 1 << 40], dtype=">i8")),
                      ("u2_be", np.array([0x1234, 0xFF00], dtype=">u2")),
                      ("c8_be", np.array([1 + 2j], dtype=">c8")),
                      ("f2_2x2_be_fortran", np.asfortranarray(
                          np.array([[1.0, 2.0], [3.0, -0.5]], dtype=">f2")))]:
        save(name, arr)
        save(name + "_le", np.ascontiguousarray(arr.astype(arr.dtype.newbyteorder("<"))))

    # Format versions 2.0 and 3.0 (4-byte header length).
    v = np.array([1.0, 2.0], dtype="<f4")
    save("f4_v2", v, version=(2, 0))
    save("f4_v3", v, version=(3, 0))

    # A header that ends exactly on the 64-byte boundary before padding:
    # NumPy then pads a whole 64 bytes (_wrap_header). The growth padding
    # makes the length independent of the first axis, so vary the rank and
    # the digits of a later axis; a zero first axis keeps the file small.
    def header_len(shape):
        d = {"descr": "<u1", "fortran_order": False, "shape": shape}
        h = "{" + "".join("'%s': %s, " % (k, repr(d[k])) for k in sorted(d)) + "}"
        return len(h) + npf.GROWTH_AXIS_MAX_DIGITS - len(repr(shape[0]))
    shape = next(s for r in range(1, 9) for k in range(19)
                 for s in [(0,) * r + (10 ** k,)] if (6 + 2 + 2 + header_len(s) + 1) % npf.ARRAY_ALIGN == 0)
    path = save("u1_pad64", np.zeros(shape, dtype="<u1"))
    with open(path, "rb") as f:
        raw = f.read()
    assert len(raw) % 64 == 0 and raw.endswith(b" " * 64 + b"\n"), (shape, len(raw))

    # Files the reader must reject.
    save("void_v2", np.zeros(2, dtype="V2"))             # how ml_dtypes' bfloat16 ends up
    save("object", np.array([1, "a"], dtype=object), allow_pickle=True)
    save("structured", np.zeros(2, dtype=[("a", "<f4"), ("b", "<i2")]))
    save("unicode", np.array(["ab", "c"]))
    save("f16_longdouble", np.zeros(2, dtype=np.longdouble))
    save("datetime", np.array(["2024-01-01"], dtype="datetime64[D]"))


def save_with_pickle(path, array):
    with open(path, "wb") as f:
        npf.write_array(f, array, allow_pickle=True)


if __name__ == "__main__":
    _save = save

    def save(name, array, **kw):  # noqa: F811 - object arrays need allow_pickle
        if kw.pop("allow_pickle", False):
            path = os.path.join(OUT, name + ".npy")
            save_with_pickle(path, array)
            return path
        return _save(name, array, **kw)

    main()
    print("numpy", np.__version__, "wrote", len(os.listdir(OUT)), "files to", OUT, file=sys.stderr)
