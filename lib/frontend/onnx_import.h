// ONNX / QONNX model import into the graph IR.
#pragma once

#include "ir/graph.h"

#include <string>

namespace onnx {
class TensorProto;
}

namespace hgqc {

/// Lowest and highest opset of the default ONNX domain that the importer accepts.
inline constexpr int kMinOpset = 1;
inline constexpr int kMaxOpset = 17;

/// Reads an ONNX model file into a graph. Constant nodes and initializers become
/// constant values, nodes are put in topological order, each node's attributes
/// are checked and canonicalised by its op, and static types are inferred. The
/// dimension 0 of each float graph input of rank >= 2 is the batch dimension and
/// is left free (a declared fixed batch size does not fix it). No normalisation
/// passes are run (see normalize()). Throws UserError naming the file and node.
Graph import_onnx(const std::string &path);

/// Converts an ONNX TensorProto (initializer, Constant value or test-data file)
/// to a Tensor; `what` names it in errors.
Tensor tensor_from_proto(const onnx::TensorProto &p, const std::string &what);

/// Reads a serialized TensorProto file (the input_N.pb / output_N.pb files of ONNX test data).
Tensor read_tensor_pb(const std::string &path);

/// The op types the importer accepts, comma separated, for messages and `hgqc ops`.
std::string supported_ops_list();

} // namespace hgqc
