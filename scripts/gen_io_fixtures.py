# Generates the tiny numpy-written .npy/.npz fixtures of the data I/O unit tests into testdata/io/.
"""Regenerate the data I/O test fixtures in testdata/io/.

Usage (from the repository root; needs Debian's python3-numpy):

    /usr/bin/python3 scripts/gen_io_fixtures.py [OUTDIR]

OUTDIR defaults to testdata/io. Every file is written by numpy itself (np.save,
np.lib.format.write_array, np.savez, np.savez_compressed) so the C++ readers in
lib/frontend/ are tested against the real format, not against our own writer.
np.savez gives every member zipfile's default timestamp (1980-01-01), so a
rerun with the same numpy/zlib reproduces the same bytes. tests/unit/frontend/test_data_io.cpp hard-codes
the values below; change both together.
"""

import io
import os
import sys

import numpy as np


class _Unseekable(io.RawIOBase):
    """A write-only stream without tell/seek: zipfile then writes data descriptors
    (general purpose flag bit 3, zero sizes in the local headers)."""

    def __init__(self):
        super().__init__()
        self.buf = bytearray()

    def writable(self):
        return True

    def seekable(self):
        return False

    def tell(self):
        raise OSError("unseekable")

    def write(self, b):
        self.buf += bytes(b)
        return len(b)


def save(outdir, name, arr, version=None, allow_pickle=False):
    path = os.path.join(outdir, name)
    with open(path, "wb") as f:
        if version is None:
            np.save(f, arr, allow_pickle=allow_pickle)
        else:
            np.lib.format.write_array(f, arr, version=version, allow_pickle=allow_pickle)


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join("testdata", "io")
    os.makedirs(outdir, exist_ok=True)

    # Supported dtypes, version 1.0 headers (np.save's default).
    save(outdir, "f4_2x3.npy", np.array([[1.5, -2.0, 3.25], [0.0, 1e-3, -7.0]], np.float32))
    save(outdir, "f8_3.npy", np.array([0.1, -2.5, 1e300], np.float64))
    save(outdir, "i4_2x2.npy", np.array([[-(2**31), 2**31 - 1], [0, -1]], np.int32))
    save(outdir, "i8_4.npy", np.array([-(2**53), 2**53, 0, -7], np.int64))
    save(outdir, "u1_2x2.npy", np.array([[0, 255], [7, 128]], np.uint8))
    save(outdir, "b1_3.npy", np.array([True, False, True]))
    save(outdir, "scalar_f4.npy", np.array(3.5, np.float32))
    save(outdir, "empty_0x3.npy", np.zeros((0, 3), np.float32))
    # Header versions 2.0 and 3.0.
    save(outdir, "v2_f4.npy", np.array([1.0, 2.0, 3.0], np.float32), version=(2, 0))
    save(outdir, "v3_i8.npy", np.array([[4, 5]], np.int64), version=(3, 0))
    # Unsupported or invalid content.
    save(outdir, "fortran_f4.npy", np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3)))
    save(outdir, "be_f4.npy", np.array([1.0, 2.0], ">f4"))
    save(outdir, "f2.npy", np.array([1.0], np.float16))
    save(outdir, "object.npy", np.array([1, "a"], dtype=object), allow_pickle=True)
    save(outdir, "structured.npy", np.zeros(2, dtype=[("a", "<f4"), ("b", "<i4")]))
    save(outdir, "nan_f4.npy", np.array([[1.0, np.nan], [3.0, 4.0]], np.float32))
    save(outdir, "inf_f8.npy", np.array([1.0, -np.inf], np.float64))

    # Archives with two members: stored, deflated, and streamed (data descriptors).
    a = np.array([[1.0, 2.0], [3.0, 4.5]], np.float32)
    b = np.array([1, 2, 3], np.int64)
    np.savez(os.path.join(outdir, "savez_2.npz"), a=a, b=b)
    weights = (np.arange(12, dtype=np.float32) / 4).reshape(3, 4)
    labels = np.array([3, 1, 4, 1, 5], np.uint8)
    np.savez_compressed(os.path.join(outdir, "savez_compressed_2.npz"), weights=weights,
                        labels=labels)
    stream = _Unseekable()
    np.savez_compressed(stream, first=b, second=a)
    with open(os.path.join(outdir, "streamed_2.npz"), "wb") as f:
        f.write(stream.buf)
    np.savez(os.path.join(outdir, "single.npz"), np.array([7, 8], np.int32))  # member arr_0

    for name in sorted(os.listdir(outdir)):
        print(f"{name:24s} {os.path.getsize(os.path.join(outdir, name)):6d} bytes")


if __name__ == "__main__":
    main()
