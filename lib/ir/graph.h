// The graph IR: typed values, nodes with attributes, graph inputs and outputs.
#pragma once

#include "ir/error.h"
#include "ir/tensor.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace hgqc {

enum class OpKind : int;

/// Index of a value in Graph::values.
using ValueId = int32_t;
/// Marks an absent optional input.
inline constexpr ValueId kNoValue = -1;

/// An attribute value: ONNX attribute kinds that hgqc ops use.
using Attr =
    std::variant<int64_t, double, std::string, std::vector<int64_t>, std::vector<double>, Tensor>;
/// Attributes by name; ordered so that dumps and output are deterministic.
using Attrs = std::map<std::string, Attr>;

/// Element type and static shape of a value (dimensions may be kDynamic).
struct ValueType {
  DType dtype = DType::Float32;
  Dims dims;
};

/// A tensor-valued edge of the graph.
struct Value {
  std::string name;               ///< ONNX name, unique in the graph
  ValueType type;                 ///< element type and static shape
  std::optional<Tensor> constant; ///< set for initializers and folded constants
};

/// An operation.
struct Node {
  std::string name;             ///< ONNX node name (made unique at import)
  OpKind op{};                  ///< what it computes
  std::string source_op;        ///< op type as written in the model, with its domain if not ONNX
  std::vector<ValueId> inputs;  ///< kNoValue for an omitted optional input
  std::vector<ValueId> outputs; ///< values this node defines
  Attrs attrs;                  ///< canonical attributes (see the op's file)

  /// Location for error messages.
  Location loc() const { return Location{"", 0, name, source_op}; }
};

/// A dataflow graph. Nodes are kept in a topological order.
struct Graph {
  std::string name;             ///< graph name from the model
  std::string source;           ///< file it was read from
  std::vector<Value> values;    ///< all values, indexed by ValueId
  std::vector<Node> nodes;      ///< topologically ordered
  std::vector<ValueId> inputs;  ///< run-time inputs (never constants)
  std::vector<ValueId> outputs; ///< results

  /// Adds a value and returns its id.
  ValueId add_value(std::string name, ValueType type, std::optional<Tensor> constant = {});
  /// Adds a constant value holding `t`, named after `base` (made unique); returns its id.
  ValueId add_constant(const std::string &base, Tensor t);
  /// The constant held by value `v`, or nullptr (also for kNoValue).
  const Tensor *constant_of(ValueId v) const;
  /// The node that defines each value (-1 for inputs and constants), by value id.
  std::vector<int> producers() const;
  /// Number of uses of each value by nodes and graph outputs, by value id.
  std::vector<int> use_counts() const;
  /// Replaces every use of `from` (node inputs and graph outputs) by `to`.
  void replace_uses(ValueId from, ValueId to);
  /// Makes `out` stand for `in`, so that the node(s) computing `out` from `in` can be
  /// dropped: uses of `out` read `in`; when `out` is a graph output, `in`'s producer
  /// defines `out` instead, keeping the output's name. That needs `in` to come from a
  /// node, not be a graph input or output, and have one use (the node being dropped);
  /// otherwise nothing changes and the result is false. The caller then disconnects
  /// the dropped node(s) (outputs kNoValue, inputs cleared) for remove_dead().
  bool bypass(ValueId out, ValueId in);
  /// Removes nodes whose outputs are unused, then values nothing refers to;
  /// keeps relative order and renumbers ids.
  void remove_dead();
  /// Returns a name not yet used by any value, based on `base`.
  std::string fresh_value_name(const std::string &base) const;
};

/// Typed attribute access: these throw UserError (without location) when the
/// attribute has the wrong kind.
int64_t attr_int(const Node &n, const std::string &name, int64_t def);
double attr_float(const Node &n, const std::string &name, double def);
std::string attr_string(const Node &n, const std::string &name, const std::string &def);
std::vector<int64_t> attr_ints(const Node &n, const std::string &name,
                               const std::vector<int64_t> &def);
std::vector<double> attr_floats(const Node &n, const std::string &name,
                                const std::vector<double> &def);
/// Throws UserError naming every attribute of `n` not in `known`.
void check_known_attrs(const Node &n, std::initializer_list<const char *> known);
/// Text form of an attribute for dumps.
std::string attr_str(const Attr &a);

/// Checks structural invariants (ids in range, one definition per value,
/// topological order, inputs/outputs well formed) and each node's input and
/// output counts; throws InternalError with a description on failure.
void verify(const Graph &g);

/// Human-readable dump used by `hgqc inspect`.
std::string dump(const Graph &g);

} // namespace hgqc
