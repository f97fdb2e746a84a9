// ONNX model export: writes a graph IR as an ONNX ModelProto (float and quantized models).
#pragma once

#include "ir/graph.h"

#include <string>

namespace onnx {
class TensorProto;
}

namespace hgqc {

/// IR version of the written models: that of ONNX 1.8, whose default-domain opset is
/// kExportOpset (13).
inline constexpr int kExportIrVersion = 7;
/// Domain that QONNX ops (Quant, BipolarQuant) are written in, at version 1.
inline constexpr const char *kQonnxExportDomain = "qonnx.custom_op.general";

/// Serialises `g` as the bytes of an ONNX ModelProto. Opsets: the default domain at
/// kExportOpset, "hgqc" version 1 when an hgqc op (FixedQuant) is present,
/// "qonnx.custom_op.general" version 1 when a QONNX op is present; producer "hgqc" and
/// its version. Values keep their names; constants become initializers with their element
/// type, in the order the nodes first read them; graph inputs and outputs carry element
/// type and shape (an unknown dimension 0, the batch, is written as dim_param "N"; other
/// unknown dimensions without a value). Each node is written in its op's ONNX form
/// (OpDef::export_form), so that import_onnx() reads back the same canonical graph.
/// The bytes are deterministic (same graph, same bytes). Throws UserError naming the value
/// or node when the graph cannot be written exactly: a constant holding a value its element
/// type cannot represent, a float attribute not exact in float32, or a node that opset 13
/// cannot express.
std::string export_onnx_bytes(const Graph &g);

/// Writes export_onnx_bytes(g) to `path` atomically (temporary file, then rename): on
/// failure nothing is left at `path`. Errors carry the path.
void export_onnx(const Graph &g, const std::string &path);

/// Fills `p` with the element type, dimensions and little-endian raw data of `t` (not the
/// name). Throws UserError naming `what` ("initializer 'w'") when an element is not
/// exactly representable in t's element type (Tensor holds doubles).
void tensor_to_proto(const Tensor &t, const std::string &what, onnx::TensorProto &p);

} // namespace hgqc
