// `hgqc synth`: out-of-context Yosys synthesis of an emitted design and its resource report.
#include "backend/synth.h"

#include "backend/process.h"
#include "ir/error.h"
#include "support/file_io.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>
#include <vector>

namespace hgqc::backend {

namespace fs = std::filesystem;

namespace {

bool starts_with(const std::string &s, const char *p) { return s.rfind(p, 0) == 0; }

bool is_lut(const std::string &t) {
  return t == "INV" || (t.size() == 4 && starts_with(t, "LUT") && t[3] >= '1' && t[3] <= '6');
}
bool is_carry(const std::string &t) { return starts_with(t, "CARRY"); }
bool is_mux(const std::string &t) { return starts_with(t, "MUXF"); }
bool is_srl(const std::string &t) { return starts_with(t, "SRL"); }
bool is_ff(const std::string &t) { return starts_with(t, "FD"); }
bool is_latch(const std::string &t) {
  return starts_with(t, "LD") || (starts_with(t, "$") && t.find("DLATCH") != std::string::npos);
}
// Cells whose outputs start a path and whose inputs end one.
bool is_sequential(const std::string &t) {
  return is_ff(t) || is_srl(t) || is_latch(t) ||
         (starts_with(t, "$") && t.find("DFF") != std::string::npos);
}

// Path length: LUT levels first, carry cells second.
using Depth = std::pair<int, int>;

} // namespace

SynthFigures analyze_yosys_netlist(const nlohmann::json &netlist, const std::string &top) {
  SynthFigures s;
  struct Cell {
    std::string type;
    std::vector<int64_t> in, out;
  };
  std::vector<Cell> cells;
  try {
    const nlohmann::json &mods = netlist.at("modules");
    if (!mods.contains(top))
      throw UserError("the synthesized netlist has no module '" + top + "'");
    const nlohmann::json &m = mods.at(top);
    if (m.contains("cells"))
      for (const auto &[name, c] : m.at("cells").items()) {
        Cell cell;
        cell.type = c.at("type").get<std::string>();
        const nlohmann::json &dirs = c.at("port_directions");
        for (const auto &[port, bits] : c.at("connections").items()) {
          std::string dir = dirs.contains(port) ? dirs.at(port).get<std::string>() : "input";
          for (const auto &b : bits)
            if (b.is_number_integer())
              (dir == "output" ? cell.out : cell.in).push_back(b.get<int64_t>());
        }
        cells.push_back(std::move(cell));
      }
  } catch (const nlohmann::json::exception &e) {
    throw UserError(std::string("malformed Yosys netlist: ") + e.what());
  }

  int64_t max_bit = 0;
  for (const Cell &c : cells) {
    ++s.cells[c.type];
    for (int64_t b : c.out)
      max_bit = std::max(max_bit, b);
  }
  for (const auto &[t, n] : s.cells) {
    if (is_lut(t))
      s.luts += n;
    else if (is_carry(t))
      s.carry += n;
    else if (is_mux(t))
      s.muxes += n;
    else if (is_srl(t))
      s.srls += n;
    else if (is_ff(t))
      s.ffs += n;
    else if (is_latch(t))
      s.latches += n;
  }

  // Longest path through combinational cells; sequential cells and ports are its ends.
  std::vector<int64_t> driver(static_cast<size_t>(max_bit) + 1, -1);
  for (size_t k = 0; k < cells.size(); ++k)
    if (!is_sequential(cells[k].type))
      for (int64_t b : cells[k].out)
        driver[static_cast<size_t>(b)] = static_cast<int64_t>(k);
  std::vector<Depth> depth(cells.size(), {0, 0});
  std::vector<uint8_t> state(cells.size(), 0); // 0 new, 1 on the stack, 2 done
  Depth longest{0, 0};
  for (size_t root = 0; root < cells.size(); ++root) {
    if (state[root] || is_sequential(cells[root].type))
      continue;
    // Iterative depth-first search: (cell, next input to look at).
    std::vector<std::pair<size_t, size_t>> stack{{root, 0}};
    state[root] = 1;
    while (!stack.empty()) {
      auto &[k, i] = stack.back();
      const Cell &c = cells[k];
      if (i < c.in.size()) {
        int64_t b = c.in[i++];
        int64_t d = b < static_cast<int64_t>(driver.size()) ? driver[static_cast<size_t>(b)] : -1;
        if (d < 0)
          continue;
        auto du = static_cast<size_t>(d);
        if (state[du] == 1)
          throw UserError("the synthesized netlist has a combinational loop through a " +
                          cells[du].type + " cell");
        if (state[du] == 0) {
          state[du] = 1;
          stack.emplace_back(du, 0);
        }
        continue;
      }
      Depth best{0, 0};
      for (int64_t b : c.in) {
        int64_t d = b < static_cast<int64_t>(driver.size()) ? driver[static_cast<size_t>(b)] : -1;
        if (d >= 0)
          best = std::max(best, depth[static_cast<size_t>(d)]);
      }
      best.first += is_lut(c.type) ? 1 : 0;
      best.second += is_carry(c.type) ? 1 : 0;
      depth[k] = best;
      longest = std::max(longest, best);
      state[k] = 2;
      stack.pop_back();
    }
  }
  s.logic_levels = longest.first;
  s.carry_on_path = longest.second;
  return s;
}

namespace {

std::string read_text(const std::string &path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream os;
  os << f.rdbuf();
  return os.str();
}

// The last `n` lines of a text (for error messages).
std::string tail_lines(const std::string &text, size_t n) {
  std::vector<std::string> lines;
  std::istringstream is(text);
  std::string l;
  while (std::getline(is, l))
    if (!l.empty())
      lines.push_back(l);
  std::string out;
  for (size_t i = lines.size() > n ? lines.size() - n : 0; i < lines.size(); ++i)
    out += (out.empty() ? "" : " | ") + lines[i];
  return out;
}

} // namespace

std::vector<std::string> synth_notes(const std::string &family, const SynthFigures &figures) {
  std::vector<std::string> notes;
  auto c4 = figures.cells.find("CARRY4");
  if ((family == "xcu" || family == "xcup") && c4 != figures.cells.end() && c4->second > 0)
    notes.push_back("this Yosys mapped the carry chains to " + std::to_string(c4->second) +
                    " CARRY4 cells, which " + family +
                    " devices do not have (they have CARRY8, 8 bits per cell): carry_cells "
                    "counts CARRY4 cells of 4 bits each (Vivado retargets them to CARRY8)");
  return notes;
}

SynthResult synth_design(const std::string &rtl_dir, const SynthOptions &o) {
  std::string report_path = (fs::path(rtl_dir) / "report.json").string();
  std::ifstream rin(report_path);
  if (!rin)
    throw UserError("cannot read report.json (emit the design with hgqc emit-verilog first)",
                    {report_path});
  nlohmann::json report;
  SynthResult r;
  std::string file;
  try {
    report = nlohmann::json::parse(rin);
    r.top = report.at("top").get<std::string>();
    file = report.at("file").get<std::string>();
    r.luts_estimate = report.at("totals").at("luts_estimate").get<int64_t>();
  } catch (const nlohmann::json::exception &e) {
    throw UserError(std::string("malformed report.json: ") + e.what(), {report_path});
  }
  rin.close();
  if (r.top.empty() ||
      r.top.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                              "0123456789_") != std::string::npos)
    throw UserError("malformed report.json: top '" + r.top + "' is not a Verilog identifier",
                    {report_path});
  if (file.empty() || file.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                             "0123456789_.") != std::string::npos)
    throw UserError("malformed report.json: file '" + file + "' is not an emitted file name",
                    {report_path});
  fs::path vfile = fs::path(rtl_dir) / file;
  if (!fs::exists(vfile))
    throw UserError("the Verilog file named by report.json is missing", {vfile.string()});
  const std::string &family = o.family;
  if (family.empty() ||
      family.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789") != std::string::npos)
    throw UserError("--family '" + family + "' is not a Xilinx family name (e.g. xc7, xcup)");
  std::string yosys = require_program(o.yosys, "yosys");

  fs::path work = fs::path(rtl_dir) / "synth";
  std::error_code ec;
  fs::create_directories(work, ec);
  if (ec)
    throw UserError("cannot create directory", {work.string()});
  std::string log = (work / "yosys.log").string();
  fs::remove(log, ec);
  std::string ver_log = (work / "version.txt").string();
  fs::remove(ver_log, ec);
  if (run_program({yosys, "-V"}, ver_log) != 0)
    throw UserError(yosys + " -V failed: is it Yosys?");
  r.yosys_version = tail_lines(read_text(ver_log), 1);
  fs::remove(ver_log, ec);

  fs::path netlist = work / "netlist.json";
  fs::remove(netlist, ec);
  std::ostringstream script;
  script << "# Generated by hgqc synth: out-of-context synthesis of " << r.top << ".\n"
         << "read_verilog ../" << file << "\n"
         << "synth_xilinx -flatten -noiopad -noclkbuf -nodsp -family " << family << " -top "
         << r.top << "\n"
         << "tee -q -o stat.txt stat\n"
         << "write_json netlist.json\n";
  std::string ys = (work / "synth.ys").string();
  write_file_atomic(ys, script.str());

  auto t0 = std::chrono::steady_clock::now();
  // Run in `work` with relative paths: Yosys scripts cannot quote every path.
  int rc = run_program({yosys, "-q", "-s", "synth.ys"}, fs::absolute(log).string(),
                       fs::absolute(work).string());
  r.seconds = seconds_since(t0);
  if (rc != 0 || !fs::exists(netlist))
    throw UserError(
        "Yosys failed (exit " + std::to_string(rc) + "): " + tail_lines(read_text(log), 3), {log});
  nlohmann::json nj;
  {
    std::ifstream nin(netlist);
    try {
      nj = nlohmann::json::parse(nin);
    } catch (const nlohmann::json::exception &e) {
      throw UserError(std::string("malformed Yosys netlist: ") + e.what(), {netlist.string()});
    }
  }
  r.figures = analyze_yosys_netlist(nj, r.top);
  r.notes = synth_notes(family, r.figures);
  if (!o.keep_netlist)
    fs::remove(netlist, ec);

  const SynthFigures &f = r.figures;
  nlohmann::json sj;
  sj["tool"] = r.yosys_version;
  sj["command"] = "synth_xilinx -flatten -noiopad -noclkbuf -nodsp -family " + family;
  sj["luts"] = f.luts;
  sj["ffs"] = f.ffs;
  sj["carry_cells"] = f.carry;
  sj["muxes"] = f.muxes;
  sj["srls"] = f.srls;
  sj["latches"] = f.latches;
  sj["logic_levels"] = f.logic_levels;
  sj["carry_cells_on_longest_path"] = f.carry_on_path;
  sj["luts_estimate_ratio"] =
      f.luts ? static_cast<double>(r.luts_estimate) / static_cast<double>(f.luts) : 0.0;
  sj["cells"] = f.cells;
  sj["seconds"] = r.seconds;
  sj["notes"] = r.notes;
  report["synth"] = sj;
  write_file_atomic(report_path, report.dump(2) + "\n");
  return r;
}

} // namespace hgqc::backend
