// Verilog-2001 writer for a scheduled netlist: one flat, pipelined top module. Every signal is
// a plain bit vector holding its integer exactly (two's complement when it can be negative);
// each expression is computed modulo 2^W for its result width W with operands explicitly
// extended or truncated to W, which is exact because every result lies in its W-bit range.
#include "backend/verilog.h"

#include "ir/error.h"

#include <algorithm>
#include <set>
#include <sstream>

namespace hgqc::backend {

namespace {
const std::set<std::string> &keywords() {
  static const std::set<std::string> k = {
      "always", "and", "assign", "automatic", "begin", "buf", "bufif0", "bufif1", "case", "casex",
      "casez", "cell", "cmos", "config", "deassign", "default", "defparam", "design", "disable",
      "edge", "else", "end", "endcase", "endconfig", "endfunction", "endgenerate", "endmodule",
      "endprimitive", "endspecify", "endtable", "endtask", "event", "for", "force", "forever",
      "fork", "function", "generate", "genvar", "highz0", "highz1", "if", "ifnone", "incdir",
      "include", "initial", "inout", "input", "instance", "integer", "join", "large", "liblist",
      "library", "localparam", "macromodule", "medium", "module", "nand", "negedge", "nmos", "nor",
      "noshowcancelled", "not", "notif0", "notif1", "or", "output", "parameter", "pmos", "posedge",
      "primitive", "pull0", "pull1", "pulldown", "pullup", "pulsestyle_onevent",
      "pulsestyle_ondetect", "rcmos", "real", "realtime", "reg", "release", "repeat", "rnmos",
      "rpmos", "rtran", "rtranif0", "rtranif1", "scalared", "showcancelled", "signed", "small",
      "specify", "specparam", "strong0", "strong1", "supply0", "supply1", "table", "task", "time",
      "tran", "tranif0", "tranif1", "tri", "tri0", "tri1", "triand", "trior", "trireg", "unsigned",
      "use", "uwire", "vectored", "wait", "wand", "weak0", "weak1", "while", "wire", "wor", "xnor",
      "xor",
      // SystemVerilog keywords that tools reading .v files may still reserve
      "bit", "byte", "int", "logic", "longint", "shortint", "type", "typedef", "enum", "struct",
      "union", "interface", "package", "import", "export", "class", "virtual",
      // the module's own ports
      "clk", "rst", "in_valid", "in_data", "out_valid", "out_data"};
  return k;
}

std::string hex(UInt128 v) {
  if (v == 0)
    return "0";
  std::string s;
  while (v) {
    s += "0123456789abcdef"[static_cast<int>(v & 15)];
    v >>= 4;
  }
  std::reverse(s.begin(), s.end());
  return s;
}

// A W-bit literal of v modulo 2^W.
std::string lit(int W, Int128 v) {
  HGQC_ASSERT(W >= 1 && W <= 127, "literal width out of range");
  UInt128 u = static_cast<UInt128>(v) & ((UInt128{1} << W) - 1);
  if (u < 1000000)
    return std::to_string(W) + "'d" + std::to_string(static_cast<uint64_t>(u));
  return std::to_string(W) + "'h" + hex(u);
}

std::string range_decl(int W) { return W == 1 ? "" : "[" + std::to_string(W - 1) + ":0] "; }

// Signed width covering [lo, hi] (always with a sign bit): comparison operands.
int cmp_width(Int128 lo, Int128 hi) { return int_width(std::min<Int128>(lo, -1), hi); }

Int128 shl(Int128 v, int s) { return v == 0 ? v : v * (Int128{1} << s); }

class Writer {
public:
  Writer(const Netlist &net, const Schedule &s) : net_(net), s_(s) {
    const size_t n = net.nodes.size();
    name_.resize(n);
    used_.resize(n);
    for (size_t k = 0; k < n; ++k) {
      const NetNode &nd = net.nodes[k];
      std::string base = nd.layer >= 0 ? net.layers[static_cast<size_t>(nd.layer)] : "n";
      std::string id = verilog_identifier(base);
      if (!id.empty() && id.back() == '_')
        id.pop_back();
      name_[k] = id + "_" + std::to_string(k);
      int copies = std::max(s.need[k] - s.stage[k], 0) + 1;
      used_[k].assign(static_cast<size_t>(copies), 0);
    }
  }

  int width(NetId id) const { return net_.nodes[static_cast<size_t>(id)].width(); }

  // A table's function name: no node or register name ends in "_t" and digits.
  static std::string table_name(int64_t t) { return "rom_t" + std::to_string(t); }
  // Bits of a table's input: its input integers in two's complement, with a sign bit.
  static int table_in_width(const NetTable &t) {
    return cmp_width(t.lo, t.lo + static_cast<Int128>(t.entries.size()) - 1);
  }
  // Bits of a table's output (two's complement when an entry is negative).
  static int table_out_width(const NetTable &t) {
    auto [mn, mx] = std::minmax_element(t.entries.begin(), t.entries.end());
    return int_width(*mn, *mx);
  }
  // One function per distinct table, read by every node that uses it: a case over the input
  // integers; inputs outside the table cannot occur (default 0).
  void write_table(std::ostream &os, int64_t ti) const {
    const NetTable &t = net_.tables[static_cast<size_t>(ti)];
    const int C = table_in_width(t), W = table_out_width(t);
    const std::string nm = table_name(ti);
    os << "\n  // ROM " << ti << ": " << t.entries.size() << " entries\n"
       << "  function " << range_decl(W) << nm << ";\n"
       << "    input " << range_decl(C) << "x;\n"
       << "    begin\n"
       << "      case (x)\n";
    for (size_t j = 0; j < t.entries.size(); ++j)
      os << "        " << lit(C, t.lo + static_cast<Int128>(j)) << ": " << nm << " = "
         << lit(W, t.entries[j]) << ";\n";
    os << "        default: " << nm << " = " << lit(W, 0) << ";\n"
       << "      endcase\n"
       << "    end\n"
       << "  endfunction\n";
  }

  // The name of node id as read in stage `st` (its wire in its own stage, else a register),
  // recording that bits [lo, hi] are read.
  std::string read(NetId id, int st, int lo, int hi) {
    size_t k = static_cast<size_t>(id);
    int copy = st - s_.stage[k];
    HGQC_ASSERT(copy >= 0 && copy < static_cast<int>(used_[k].size()),
                "node read outside its pipeline registers");
    UInt128 bits = hi >= 127 ? ~UInt128{0} : (UInt128{1} << (hi + 1)) - 1;
    used_[k][static_cast<size_t>(copy)] |= bits & ~((UInt128{1} << lo) - 1);
    return copy_name(k, copy);
  }

  std::string copy_name(size_t k, int copy) const {
    return copy == 0 ? name_[k] : name_[k] + "_p" + std::to_string(s_.stage[k] + copy);
  }

  // The W-bit product of Mul node k (exact: W holds it) as shift-and-add logic: the narrower
  // factor's bits gate shifted copies of the other (an AND per bit), and a balanced tree of
  // W-bit adders sums them; a signed gating factor's top bit weighs -2^(m-1), so its partial
  // product is subtracted last. Modulo 2^W every step is exact. The partial products and sums
  // are wires of their own (appended to `lines`); returns the expression of the last sum.
  std::string product(size_t k, const NetNode &nd, int W, int st, std::vector<std::string> &lines) {
    HGQC_ASSERT(nd.sa == 0 && nd.sb == 0, "a multiplier with shifted operands");
    NetId x = nd.a, g = nd.b; // x is shifted, g gates
    if (width(g) > width(x))
      std::swap(x, g);
    const NetNode &gn = net_.nodes[static_cast<size_t>(g)];
    HGQC_ASSERT(gn.op != NetOp::Const, "a multiplier with a constant factor");
    const int m = gn.width();
    const bool neg_top = gn.is_signed();
    std::vector<std::string> terms;
    std::string top;
    for (int j = 0; j < m; ++j) {
      std::string t =
          "({" + std::to_string(W) + "{" + bit(g, st, j) + "}} & " + operand(x, j, W, st) + ")";
      (neg_top && j == m - 1 ? top : terms.emplace_back()) = t;
    }
    int wire = 0;
    while (terms.size() > 1) {
      std::vector<std::string> next;
      for (size_t j = 0; j + 1 < terms.size(); j += 2) {
        std::string nm = name_[k] + "_pp" + std::to_string(wire++);
        lines.push_back("wire " + range_decl(W) + nm + " = " + terms[j] + " + " + terms[j + 1] +
                        ";");
        next.push_back(nm);
      }
      if (terms.size() % 2)
        next.push_back(terms.back());
      terms = std::move(next);
    }
    if (top.empty())
      return terms[0];
    return (terms.empty() ? lit(W, 0) : terms[0]) + " - (" + top + ")";
  }

  // Bit j of node id (sign-extended beyond its width) read in stage st.
  std::string bit(NetId id, int st, int j) {
    const NetNode &nd = net_.nodes[static_cast<size_t>(id)];
    int w = nd.width();
    if (j >= w) {
      if (!nd.is_signed())
        return "1'b0";
      j = w - 1;
    }
    std::string nm = read(id, st, j, j);
    return w == 1 ? nm : nm + "[" + std::to_string(j) + "]";
  }

  // (q_id << sa) modulo 2^W as a W-bit expression read in stage st.
  std::string operand(NetId id, int sa, int W, int st) {
    const NetNode &nd = net_.nodes[static_cast<size_t>(id)];
    if (nd.op == NetOp::Const)
      return lit(W, shl(nd.lo, std::min(sa, 126)));
    if (sa >= W)
      return lit(W, 0);
    int wc = W - sa, wa = nd.width();
    std::string core;
    if (wc <= wa) {
      std::string nm = read(id, st, 0, wc - 1);
      core = wc == wa ? nm : nm + "[" + std::to_string(wc - 1) + ":0]";
    } else {
      std::string nm = read(id, st, 0, wa - 1);
      std::string sign = nd.is_signed() ? bit(id, st, wa - 1) : "1'b0";
      core = "{{" + std::to_string(wc - wa) + "{" + sign + "}}, " + nm + "}";
    }
    return sa == 0 ? core : "{" + core + ", " + std::to_string(sa) + "'b0}";
  }

  std::string write(const VerilogOptions &o) {
    BusLayout lay = bus_layout(net_);
    if (lay.in_width == 0)
      throw UserError("every input element is pruned: the circuit would have no input bits");
    if (lay.out_width == 0)
      throw UserError("every output element is the constant zero: the circuit would have no "
                      "output bits");
    const size_t n = net_.nodes.size();
    // Body lines per node, built first so that bit usage is known before declarations.
    std::vector<std::vector<std::string>> decl(n);
    std::vector<int64_t> in_lsb(n, 0);
    for (const BusField &b : lay.in) {
      NetRef r = net_.inputs[static_cast<size_t>(b.port)].el[static_cast<size_t>(b.element)];
      in_lsb[static_cast<size_t>(r.node)] = b.lsb;
    }
    for (size_t k = 0; k < n; ++k) {
      const NetNode &nd = net_.nodes[k];
      if (nd.op == NetOp::Const)
        continue;
      const int W = nd.width(), st = s_.stage[k];
      std::string expr;
      switch (nd.op) {
      case NetOp::Input:
        expr = W == 1 ? "in_data[" + std::to_string(in_lsb[k]) + "]"
                      : "in_data[" + std::to_string(in_lsb[k] + W - 1) + ":" +
                            std::to_string(in_lsb[k]) + "]";
        break;
      case NetOp::Add:
      case NetOp::Sub:
        expr = operand(nd.a, nd.sa, W, st) + (nd.op == NetOp::Add ? " + " : " - ") +
               operand(nd.b, nd.sb, W, st);
        break;
      case NetOp::Neg:
        expr = lit(W, 0) + " - " + operand(nd.a, nd.sa, W, st);
        break;
      case NetOp::Relu:
        expr = bit(nd.a, st, width(nd.a) - 1) + " ? " + lit(W, 0) + " : " +
               operand(nd.a, nd.sa, W, st);
        break;
      case NetOp::Max:
      case NetOp::Min: {
        const NetNode &a = net_.nodes[static_cast<size_t>(nd.a)];
        const NetNode &b = net_.nodes[static_cast<size_t>(nd.b)];
        int C = cmp_width(std::min(shl(a.lo, nd.sa), shl(b.lo, nd.sb)),
                          std::max(shl(a.hi, nd.sa), shl(b.hi, nd.sb)));
        expr = "($signed(" + operand(nd.a, nd.sa, C, st) +
               (nd.op == NetOp::Max ? ") > $signed(" : ") < $signed(") +
               operand(nd.b, nd.sb, C, st) + ")) ? " + operand(nd.a, nd.sa, W, st) + " : " +
               operand(nd.b, nd.sb, W, st);
        break;
      }
      case NetOp::Clamp: {
        const NetNode &a = net_.nodes[static_cast<size_t>(nd.a)];
        Int128 la = shl(a.lo, nd.sa), ha = shl(a.hi, nd.sa);
        const bool below = la < nd.clo;
        const bool above = ha > nd.chi;
        int C = cmp_width(std::min(la, below ? nd.clo : la), std::max(ha, above ? nd.chi : ha));
        std::string ac = below || above ? operand(nd.a, nd.sa, C, st) : "";
        if (below)
          expr +=
              "($signed(" + ac + ") < $signed(" + lit(C, nd.clo) + ")) ? " + lit(W, nd.clo) + " : ";
        if (above)
          expr +=
              "($signed(" + ac + ") > $signed(" + lit(C, nd.chi) + ")) ? " + lit(W, nd.chi) + " : ";
        expr += operand(nd.a, nd.sa, W, st);
        break;
      }
      case NetOp::Wrap:
        expr = operand(nd.a, nd.sa, W, st);
        break;
      case NetOp::Round: {
        const NetNode &a = net_.nodes[static_cast<size_t>(nd.a)];
        const int sh = nd.shift;
        Int128 cmin = 0, cmax = 0;
        if (nd.rnd == RoundMode::RND)
          cmin = cmax = Int128{1} << (sh - 1);
        else if (nd.rnd == RoundMode::RND_CONV)
          cmin = (Int128{1} << (sh - 1)) - 1, cmax = Int128{1} << (sh - 1);
        Int128 lo = shl(a.lo, nd.sa) + cmin, hi = shl(a.hi, nd.sa) + cmax;
        int X = std::max(int_width(std::min<Int128>(lo, 0), std::max<Int128>(hi, 0)), sh + W);
        std::string t = operand(nd.a, nd.sa, X, st);
        if (cmin > 0)
          t += " + " + lit(X, cmin);
        if (nd.rnd == RoundMode::RND_CONV) {
          HGQC_ASSERT(nd.sa == 0, "half-to-even rounding of a shifted operand");
          std::string b = bit(nd.a, st, sh);
          if (b != "1'b0")
            t += " + {{" + std::to_string(X - 1) + "{1'b0}}, " + b + "}";
        }
        // The sum before the shift; only bits [sh, sh + W) are kept.
        std::string tn = name_[k] + "_r";
        bool partial = sh > 0 || X > sh + W;
        std::string line = "wire " + range_decl(X) + tn + " = " + t + ";";
        if (partial)
          line = "/* verilator lint_off UNUSEDSIGNAL */\n  " + line +
                 "\n  /* verilator lint_on UNUSEDSIGNAL */";
        decl[k].push_back(line);
        expr = W == 1 ? tn + "[" + std::to_string(sh) + "]"
                      : tn + "[" + std::to_string(sh + W - 1) + ":" + std::to_string(sh) + "]";
        break;
      }
      case NetOp::Mul:
        expr = product(k, nd, W, st, decl[k]);
        break;
      case NetOp::Table: {
        const NetTable &t = net_.tables[static_cast<size_t>(nd.index)];
        const int C = table_in_width(t), Wt = table_out_width(t);
        expr = table_name(nd.index) + "(" + operand(nd.a, nd.sa, C, st) + ")";
        HGQC_ASSERT(W <= Wt, "table node wider than its table");
        if (W < Wt) { // bounds narrowed below the table's: keep the low bits
          std::string tn = name_[k] + "_rom";
          decl[k].push_back("/* verilator lint_off UNUSEDSIGNAL */\n  wire " + range_decl(Wt) + tn +
                            " = " + expr + ";\n  /* verilator lint_on UNUSEDSIGNAL */");
          expr = W == 1 ? tn + "[0]" : tn + "[" + std::to_string(W - 1) + ":0]";
        }
        used_tables_.insert(nd.index);
        break;
      }
      case NetOp::Concat: // raw bits side by side: a ROM address
        HGQC_ASSERT(nd.sa == 0 && nd.sb == width(nd.a) && nd.bits == width(nd.b),
                    "concatenation fields differ from their operands' widths");
        expr = "{" + read(nd.b, st, 0, nd.bits - 1) + ", " + read(nd.a, st, 0, nd.sb - 1) + "}";
        break;
      case NetOp::Const:
        break;
      }
      decl[k].push_back("wire " + range_decl(W) + name_[k] + " = " + expr + ";");
    }

    // Registers between stages, and the output register.
    std::vector<std::string> seq;
    for (size_t k = 0; k < n; ++k) {
      const NetNode &nd = net_.nodes[k];
      if (nd.op == NetOp::Const)
        continue;
      int W = nd.width();
      for (int t = s_.stage[k] + 1; t <= s_.need[k]; ++t) {
        std::string prev = read(static_cast<NetId>(k), t - 1, 0, W - 1);
        seq.push_back(copy_name(k, t - s_.stage[k]) + " <= " + prev + ";");
      }
    }
    std::vector<std::string> out_fields;
    for (const BusField &b : lay.out) {
      NetRef r = net_.outputs[static_cast<size_t>(b.port)].el[static_cast<size_t>(b.element)];
      HGQC_ASSERT(!r.zero() && r.f <= b.f, "output element on a finer grid than its field");
      out_fields.push_back(operand(r.node, b.f - r.f, b.width, s_.stages));
    }

    std::ostringstream os;
    os << "// Generated by hgqc: do not edit.\n";
    for (const std::string &h : o.header)
      os << "// " << h << "\n";
    os << "//\n// Ports: clk (rising edge)" << (o.reset ? ", rst (synchronous, active high)" : "")
       << ", in_valid, in_data, out_valid, out_data.\n"
       << "// One new input per clock; out_data and out_valid follow in_data and in_valid by "
       << s_.stages << " clock cycle(s).\n"
       << "// Bus bit order: element 0 of the first port in the lowest bits, then each element\n"
       << "// in row-major order; pruned (constant zero) elements take no bits. Field widths,\n"
       << "// signedness and binary points are listed in report.json.\n"
       << "`default_nettype none\n\n"
       << "module " << o.top << " (\n"
       << "  input wire clk,\n";
    if (o.reset)
      os << "  input wire rst,\n";
    os << "  input wire in_valid,\n"
       << "  input wire " << range_decl(static_cast<int>(lay.in_width)) << "in_data,\n"
       << "  output wire out_valid,\n"
       << "  output wire " << range_decl(static_cast<int>(lay.out_width)) << "out_data\n"
       << ");\n";
    for (int64_t t : used_tables_)
      write_table(os, t);
    int cur = -1;
    for (size_t k = 0; k < n; ++k) {
      if (decl[k].empty())
        continue;
      if (s_.stage[k] != cur) {
        cur = s_.stage[k];
        os << "\n  // ---- stage " << cur << "\n";
      }
      for (size_t j = 0; j + 1 < decl[k].size(); ++j)
        os << "  " << decl[k][j] << "\n";
      emit_decl(os, k, 0, decl[k].back());
    }
    // Register declarations.
    bool any_reg = false;
    for (size_t k = 0; k < n; ++k) {
      if (net_.nodes[k].op == NetOp::Const)
        continue;
      for (int copy = 1; copy < static_cast<int>(used_[k].size()); ++copy) {
        if (!any_reg)
          os << "\n  // ---- pipeline registers\n";
        any_reg = true;
        emit_decl(os, k, copy,
                  "reg " + range_decl(net_.nodes[k].width()) + copy_name(k, copy) + ";");
      }
    }
    os << "\n  always @(posedge clk) begin\n";
    for (const std::string &l : seq)
      os << "    " << l << "\n";
    os << "  end\n\n  // ---- valid\n";
    for (int t = 1; t <= s_.stages; ++t)
      os << "  reg valid_p" << t << ";\n";
    os << "  always @(posedge clk) begin\n";
    auto chain = [&](const char *ind) {
      for (int t = 1; t <= s_.stages; ++t)
        os << ind << "valid_p" << t
           << " <= " << (t == 1 ? std::string("in_valid") : "valid_p" + std::to_string(t - 1))
           << ";\n";
    };
    if (o.reset) {
      os << "    if (rst) begin\n";
      for (int t = 1; t <= s_.stages; ++t)
        os << "      valid_p" << t << " <= 1'b0;\n";
      os << "    end else begin\n";
      chain("      ");
      os << "    end\n";
    } else {
      chain("    ");
    }
    os << "  end\n  assign out_valid = valid_p" << s_.stages << ";\n\n";
    os << "  assign out_data = {";
    for (size_t j = out_fields.size(); j-- > 0;)
      os << (j + 1 == out_fields.size() ? "" : ",\n                     ") << out_fields[j];
    os << "};\n\nendmodule\n\n`default_nettype wire\n";
    return os.str();
  }

private:
  // A declaration, wrapped in a lint waiver when some of its bits are never read (arithmetic
  // modulo a narrower result, or bits dropped by rounding).
  void emit_decl(std::ostringstream &os, size_t k, int copy, const std::string &line) {
    UInt128 u = used_[k][static_cast<size_t>(copy)];
    int W = net_.nodes[k].width();
    bool partial = u != (UInt128{1} << W) - 1;
    if (partial)
      os << "  /* verilator lint_off UNUSEDSIGNAL */\n";
    os << "  " << line << "\n";
    if (partial)
      os << "  /* verilator lint_on UNUSEDSIGNAL */\n";
  }

  const Netlist &net_;
  std::set<int64_t> used_tables_; // tables read by some node, in number order
  const Schedule &s_;
  std::vector<std::string> name_;
  std::vector<std::vector<UInt128>> used_; // by node, by copy: mask of the bits read
};
} // namespace

BusLayout bus_layout(const Netlist &net) {
  BusLayout lay;
  for (size_t p = 0; p < net.inputs.size(); ++p)
    for (size_t e = 0; e < net.inputs[p].el.size(); ++e) {
      NetRef r = net.inputs[p].el[e];
      if (r.zero())
        continue;
      const NetNode &nd = net.node(r);
      BusField b{static_cast<int>(p), static_cast<int64_t>(e), lay.in_width,
                 nd.width(),          nd.is_signed(),          r.f};
      lay.in_width += b.width;
      lay.in.push_back(b);
    }
  for (size_t p = 0; p < net.outputs.size(); ++p)
    for (size_t e = 0; e < net.outputs[p].el.size(); ++e) {
      const Interval &iv = net.outputs[p].range[e];
      if (iv.zero())
        continue;
      BusField b{static_cast<int>(p), static_cast<int64_t>(e),
                 lay.out_width,       int_width(iv.lo, iv.hi),
                 iv.lo < 0,           iv.f};
      lay.out_width += b.width;
      lay.out.push_back(b);
    }
  return lay;
}

std::string verilog_identifier(const std::string &s) {
  std::string r;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (ok)
      r += c;
    else if (r.empty() || r.back() != '_')
      r += '_';
  }
  while (!r.empty() && r.front() == '_')
    r.erase(r.begin());
  if (r.empty())
    r = "n";
  if (r[0] >= '0' && r[0] <= '9')
    r = "m" + r;
  if (keywords().count(r))
    r += '_';
  return r;
}

std::string write_verilog(const Netlist &net, const Schedule &sched,
                          const VerilogOptions &options) {
  HGQC_ASSERT(sched.stage.size() == net.nodes.size(), "schedule of another netlist");
  return Writer(net, sched).write(options);
}

} // namespace hgqc::backend
