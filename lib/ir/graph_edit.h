// Tools for passes that edit a graph in time linear in its size: batched use replacement and
// fresh value names.
#pragma once

#include "ir/graph.h"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace hgqc {

/// Replaces every use of each value v (node inputs and graph outputs) by to[v], in one pass
/// over the graph; `to` has one entry per value (to[v] == v leaves v's uses alone). A pass
/// with many replacements collects them here instead of calling Graph::replace_uses (one
/// pass over the graph each).
void replace_uses(Graph &g, const std::vector<ValueId> &to);

/// Adds values to a graph under fresh names: one scan of the graph's value names (at the
/// first name asked for, so a pass that adds nothing pays nothing), then O(log n) per value. Gives
/// the names Graph::fresh_value_name would give (`base`, else `base_1`, `base_2`, ...) as long as
/// the graph gets new values only through this object while it lives.
class FreshNames {
public:
  explicit FreshNames(Graph &g);
  /// A name not used by any value of the graph nor handed out before, based on `base`.
  std::string name(const std::string &base);
  /// Graph::add_value under name(base).
  ValueId add_value(const std::string &base, ValueType type, std::optional<Tensor> constant = {});
  /// Graph::add_constant under name(base).
  ValueId add_constant(const std::string &base, Tensor t);

private:
  Graph &g_;
  bool scanned_ = false; ///< used_ holds the graph's names
  std::set<std::string> used_;
  std::map<std::string, int> next_; ///< per base: the suffixes up to it are taken
};

} // namespace hgqc
