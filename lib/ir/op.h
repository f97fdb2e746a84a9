// The op interface: each IR op is one OpDef with its hooks, listed in ops.def.
#pragma once

#include "ir/fixed.h"
#include "ir/graph.h"
#include "ir/netlist.h"
#include "ir/train.h"

#include <functional>
#include <span>
#include <string_view>
#include <vector>

namespace hgqc {

/// Every IR op, in the order of ops.def.
enum class OpKind : int {
#define HGQC_OP(name, domain) name,
#include "ir/ops.def"
};

/// Where an op is imported from: the default ONNX domain, the QONNX domains, or
/// hgqc's own domain "hgqc" (quantized model files).
enum class OpDomain { Onnx, Qonnx, Hgqc };

/// The ONNX domain name hgqc's own ops are written in.
inline constexpr const char *kHgqcDomain = "hgqc";

/// What an op's fixed-point evaluation sees besides its integer inputs.
struct FixedContext {
  /// Exact ranges (and so exponents) of the inputs; null for omitted inputs and for
  /// float graph inputs.
  std::span<const ValueRange *const> in_ranges;
  /// Exact ranges of the outputs, from the range analysis.
  std::span<const ValueRange *const> out_ranges;
  /// Float tensors for inputs that are float graph inputs (only quantizers accept
  /// them), null elsewhere.
  std::span<const Tensor *const> real_in;
  /// Quantizers add the number of elements that overflowed their format here.
  int64_t *overflows = nullptr;
};

/// A constant matrix-vector product that an op's lowering asks the backend to build
/// (method.md §3): output r is the sum over columns c of m[r * x.size() + c] times the
/// integer of node x[c], a value on the grid 2^-row_f[r].
struct CmvmRequest {
  std::vector<NetId> x;   ///< columns: distinct nodes that are not constants
  int64_t rows = 0;       ///< number of outputs
  std::vector<int64_t> m; ///< rows * x.size() integer coefficients, row-major
  std::vector<int> row_f; ///< exponent of each output
};

/// One output of a built CMVM: its value is `ref`, negated when `negate`.
struct CmvmRow {
  NetRef ref;
  bool negate = false;
};

/// Builds a CmvmRequest into the netlist as shift-and-add logic (the backend's optimiser).
using CmvmBuildFn = std::function<std::vector<CmvmRow>(Netlist &, const CmvmRequest &)>;

/// What an op's lowering hook sees besides the node.
struct LowerContext {
  Netlist &net; ///< the netlist being built (records the node's layer)
  /// Exact ranges of the inputs (null for omitted inputs) and outputs.
  std::span<const ValueRange *const> in_ranges;
  std::span<const ValueRange *const> out_ranges;
  /// The inputs' signals, one per element of their range (constants as Const nodes);
  /// null for omitted inputs.
  std::span<const std::vector<NetRef> *const> in;
  /// Constant inputs (or null).
  std::span<const Tensor *const> consts;
  /// The backend's constant matrix-vector product builder.
  const CmvmBuildFn &cmvm;
};

/// Context handed to an op's import hook.
struct ImportContext {
  Graph &graph;  ///< the graph being built; inputs of the node are already typed
  int opset = 0; ///< opset version of the op's domain (0 when not declared)
  /// The batch size the model declares for its inputs (their dimension 0, now free),
  /// when all batch inputs declare the same one; 0 otherwise. Ops use it to recognise
  /// an exporter's fixed batch in shapes written as constants.
  int64_t declared_batch = 0;
};

/// The default-domain opset that exported models declare; export hooks write their
/// node in the form this opset reads.
inline constexpr int kExportOpset = 13;

/// A tensor that a node of an op's ONNX form (OpDef::export_form) reads or writes: a
/// value of the graph, an omitted optional input, a constant that the exporter adds as
/// an initializer, or an intermediate result passed between the nodes of the form.
struct ExportRef {
  ValueId value = kNoValue;       ///< a graph value (kNoValue, no constant, no temp: omitted)
  std::optional<Tensor> constant; ///< set: a new initializer holding this tensor
  int temp = -1;                  ///< >= 0: intermediate result number `temp` of the form
  std::string hint;               ///< constants and temps: name suffix ("axes")

  /// A value of the graph (kNoValue: an omitted input).
  static ExportRef of(ValueId v);
  /// A new initializer, named after the node and `hint`.
  static ExportRef constant_of(Tensor t, std::string hint);
  /// Intermediate result `k` of the form, named after the node and `hint`.
  static ExportRef temp_of(int k, std::string hint);
};

/// One ONNX node of an op's exported form.
struct ExportNode {
  std::string op_type;              ///< ONNX op_type
  OpDomain domain = OpDomain::Onnx; ///< written as "", "qonnx.custom_op.general" or "hgqc"
  std::string name_suffix;          ///< "": the IR node's name; else appended to it
  Attrs attrs;                      ///< ONNX attributes (written in name order)
  std::vector<ExportRef> inputs;    ///< inputs in ONNX order
  std::vector<ExportRef> outputs;   ///< outputs in ONNX order
};

/// What an export hook sees besides the node.
struct ExportContext {
  const Graph &graph; ///< the graph being written
  /// The batch size that the written file declares, as the importer will read it back
  /// (ImportContext::declared_batch): 0 when the batch dimension is written free.
  int64_t declared_batch = 0;
};

/// The hooks of one op. Hooks throw UserError without a location; callers add the node's.
struct OpDef {
  std::string_view name; ///< IR name (also the ONNX op_type it imports from)
  OpDomain domain;       ///< domain it imports from
  int min_inputs, max_inputs;
  int min_outputs, max_outputs;
  /// Whether constant folding may replace the node by its value (false for quantizers,
  /// which later stages need to see).
  bool foldable;
  /// Checks the node's ONNX attributes for `ctx.opset` and rewrites them to the
  /// canonical form that infer/eval read (defaults filled, opset differences
  /// removed, constant inputs turned into attributes where the op says so).
  void (*import)(Node &n, ImportContext &ctx);
  /// Output types from input types (dimensions may be kDynamic); null entries in
  /// `in` are omitted optional inputs. `consts` gives constant inputs (or null).
  std::vector<ValueType> (*infer)(const Node &n, std::span<const ValueType *const> in,
                                  std::span<const Tensor *const> consts);
  /// Float reference evaluation on concrete tensors (null entries: omitted inputs).
  std::vector<Tensor> (*eval)(const Node &n, std::span<const Tensor *const> in);
  /// Exact per-element output ranges from input ranges (null entries: omitted inputs or
  /// float graph inputs; only quantizers accept the latter). `consts` as for infer.
  /// Null when the op has no fixed-point form.
  std::vector<ValueRange> (*range)(const Node &n, std::span<const ValueRange *const> in,
                                   std::span<const Tensor *const> consts) = nullptr;
  /// Exact integer evaluation (the emulator); null entries in `in`: omitted inputs or
  /// float graph inputs (see FixedContext::real_in). Must stay within the ranges.
  std::vector<FixedTensor> (*eval_fixed)(const Node &n, std::span<const FixedTensor *const> in,
                                         const FixedContext &ctx) = nullptr;
  /// EBOPs of the node (method.md §2): for each multiplication of two signals, the
  /// product of their widths, where an element's width is the width of the minimal format
  /// of its exact range (Interval::width; 0 for pruned elements); a power-of-two constant
  /// factor is a shift and costs 0; pooling ops charge their addends (see addend_counts).
  /// Null for ops that neither multiply nor pool (they cost no EBOPs). `in` as for range.
  double (*ebops)(const Node &n, std::span<const ValueRange *const> in) = nullptr;
  /// Hardware lowering (method.md §3): the output signals, one per element of each output's
  /// range, whose values equal the emulator's bit for bit. Throws UserError when the node
  /// cannot be built (e.g. a product of two run-time values). Null when the op has none.
  std::vector<std::vector<NetRef>> (*lower)(const Node &n, LowerContext &ctx) = nullptr;
  /// The node as ONNX nodes (default domain at kExportOpset, or the op's own domain)
  /// whose import gives back this canonical node, or one that computes the same (several
  /// nodes where the opset has no single node for it). Throws UserError when the node
  /// cannot be written. Null: default_export_node().
  std::vector<ExportNode> (*export_form)(const Node &n, const ExportContext &ctx) = nullptr;
  /// Training forward in float32 on a chunk of samples (batched values have them in
  /// dimension 0; weights and other per-model values are whole): computes every output,
  /// resizing it. Null when the op cannot be trained through (see `backward`).
  void (*train_forward)(const Node &n, TrainIns in, TrainOuts out, TrainContext &ctx) = nullptr;
  /// Reverse-mode derivative of train_forward: from the inputs, the outputs train_forward
  /// computed and the gradients of the loss with respect to the outputs (`dout`), adds the
  /// gradient with respect to input j into din[j] for every non-null din[j] (micrograd's
  /// `+=`: din[j] holds the contributions of the value's other readers, or is empty, see
  /// grad_target()). Null entries of `in`: omitted inputs.
  void (*backward)(const Node &n, TrainIns in, TrainIns out, TrainIns dout, TrainOuts din,
                   TrainContext &ctx) = nullptr;
  /// Ops that add or compare the elements of their first input without multiplying them
  /// (pooling windows): counts[i] is the number of windows that element i of an input of
  /// per-sample dims `x` (batch 1) enters. Their `ebops` is sum_i counts[i] * width(x_i), a
  /// weight of width 1 per addend, and training charges the quantizer of x the same.
  void (*addend_counts)(const Node &n, const Dims &x, std::vector<float> &counts) = nullptr;
  /// Elementwise table functions (lib/ir/ops/table_common.h): their fixed-point form reads
  /// its output format from the quantizer that fuse_table_quant folds into the node, so
  /// hgqc quantize and train place a quantizer on their outputs.
  bool table = false;
};

#define HGQC_OP(name, domain) extern const OpDef op_def_##name;
#include "ir/ops.def"

/// The definition of an op.
const OpDef &op_def(OpKind k);
/// All ops in ops.def order.
std::span<const OpDef *const> all_ops();
/// The op an ONNX (domain kind, op_type) imports as, or nullptr.
const OpDef *find_op(OpDomain d, std::string_view onnx_op_type);
/// OpKind of a definition.
OpKind op_kind(const OpDef &d);
/// Runs the op's shape inference for node `n` of graph `g` and returns output types.
std::vector<ValueType> infer_node(const Graph &g, const Node &n);
/// The default ONNX form of `n`: one node with the op's name and domain, the canonical
/// attributes, and the node's inputs and outputs.
ExportNode default_export_node(const Node &n);
/// The ONNX form of `n`: its op's export_form hook, or default_export_node().
std::vector<ExportNode> export_nodes(const Node &n, const ExportContext &ctx);

} // namespace hgqc
