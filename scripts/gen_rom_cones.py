# Generates testdata/fixed/pool_roms.onnx, the co-simulation model of the ROM-cone pass.
"""Write the quantized model whose pooling windows become ROMs (lib/backend/rom_cones.cpp).

Usage (from the repository root; needs Debian's python3-torch (for zoo_common), python3-onnx
and numpy):

    /usr/bin/python3 scripts/gen_rom_cones.py [OUT.onnx]

OUT defaults to testdata/fixed/pool_roms.onnx. The model (hgqc FixedQuant, opset 13):
x [N, 1, 4, 8] -> FixedQuant per element (1 or 2 bits, signed or not, on different grids:
every 2x2 window reads at most 8 bits, and no two inputs of a window have the same format
unless by chance) -> AveragePool 2x2 -> FixedQuant per element (RND, SAT) -> Flatten: y [N, 8].
The inputs of a window differ, so a ROM addressed by their bits in the wrong order computes
another function. The formats come from a seeded generator: a rerun writes the same file.
"""

import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper
from zoo_common import save_fixed_model

SEED = 2026


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "testdata/fixed/pool_roms.onnx"
    rng = np.random.default_rng(SEED)
    shape = (1, 1, 4, 8)
    k = rng.integers(0, 2, shape)                # signed or not
    width = rng.integers(1, 3, shape)            # 1 or 2 bits, sign included
    f = rng.integers(0, 4, shape)                # fractional bits
    i = width - k - f                            # integer bits (negative: a fine grid)
    pk = np.ones((1, 1, 2, 4), np.int64)
    pi = rng.integers(0, 2, (1, 1, 2, 4))
    pf = rng.integers(1, 3, (1, 1, 2, 4))
    inits = [numpy_helper.from_array(np.asarray(a, np.int64), n)
             for a, n in ((k, "x_k"), (i, "x_i"), (f, "x_f"), (pk, "p_k"), (pi, "p_i"),
                          (pf, "p_f"))]
    mk = helper.make_node
    nodes = [
        mk("FixedQuant", ["x", "x_k", "x_i", "x_f"], ["xq"], name="q_x", domain="hgqc",
           round_mode="TRN", overflow_mode="SAT"),
        mk("AveragePool", ["xq"], ["pool"], name="pool", kernel_shape=[2, 2], strides=[2, 2]),
        mk("FixedQuant", ["pool", "p_k", "p_i", "p_f"], ["pq"], name="q_pool", domain="hgqc",
           round_mode="RND", overflow_mode="SAT"),
        mk("Flatten", ["pq"], ["y"], name="flat", axis=1),
    ]
    save_fixed_model(nodes, "pool_roms",
                     [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, 4, 8])],
                     [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 8])], inits,
                     path)
    print(f"input widths {width.ravel().tolist()}, signed {k.ravel().tolist()}")


if __name__ == "__main__":
    main()
