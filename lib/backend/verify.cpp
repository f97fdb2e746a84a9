// `hgqc verify`: Verilator co-simulation of an emitted design against the integer emulator.
#include "backend/verify.h"

#include "backend/emit.h"
#include "backend/process.h"
#include "ir/error.h"
#include "support/file_io.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>

namespace hgqc::backend {

namespace fs = std::filesystem;

namespace {
struct Field {
  int port = 0;
  int64_t element = 0, lsb = 0;
  int width = 0;
  bool is_signed = false;
  int f = 0;
};

struct Design {
  std::string top, file;
  bool reset = true;
  int latency = 1;
  int64_t in_width = 0, out_width = 0;
  std::vector<Field> in, out;
};

Design read_report(const std::string &dir) {
  std::string path = (fs::path(dir) / "report.json").string();
  std::ifstream in(path);
  if (!in)
    throw UserError("cannot read report.json (emit the design with hgqc emit-verilog first)",
                    {path});
  Design d;
  try {
    nlohmann::json j = nlohmann::json::parse(in);
    d.top = j.at("top").get<std::string>();
    d.file = j.at("file").get<std::string>();
    d.reset = j.at("reset").get<bool>();
    d.latency = j.at("latency_cycles").get<int>();
    d.in_width = j.at("in_width").get<int64_t>();
    d.out_width = j.at("out_width").get<int64_t>();
    for (const char *key : {"in_fields", "out_fields"})
      for (const auto &f : j.at(key))
        (std::string(key) == "in_fields" ? d.in : d.out)
            .push_back(Field{f.at("port").get<int>(), f.at("element").get<int64_t>(),
                             f.at("lsb").get<int64_t>(), f.at("width").get<int>(),
                             f.at("signed").get<bool>(), f.at("f").get<int>()});
  } catch (const nlohmann::json::exception &e) {
    throw UserError(std::string("malformed report.json: ") + e.what(), {path});
  }
  if (d.latency < 1 || d.in_width < 1 || d.out_width < 1)
    throw UserError("malformed report.json: latency and bus widths must be positive", {path});
  return d;
}

// The fields a design of `g` has (as emit_design lays them out), checked against report.json.
void check_fields(const Design &d, const Graph &g, const RangeAnalysis &ra) {
  auto mismatch = [](const std::string &what) {
    throw UserError("report.json does not match the model: " + what +
                    " (was the design emitted from this model, with the same --input-format?)");
  };
  // Inputs: the output ranges of the input quantizers.
  std::vector<const ValueRange *> in_ranges;
  for (ValueId v : g.inputs) {
    const ValueRange *r = nullptr;
    for (const Node &n : g.nodes)
      if (n.op == OpKind::FixedQuant && n.inputs[0] == v)
        r = &*ra.ranges[n.outputs[0]];
    if (!r)
      mismatch("input '" + g.values[v].name + "' has no quantizer");
    in_ranges.push_back(r);
  }
  auto check = [&](const std::vector<Field> &fs, const std::vector<const ValueRange *> &rs,
                   const char *what) {
    size_t k = 0;
    int64_t lsb = 0;
    for (size_t p = 0; p < rs.size(); ++p)
      for (size_t e = 0; e < rs[p]->el.size(); ++e) {
        const Interval &iv = rs[p]->el[e];
        if (iv.zero())
          continue;
        std::string at =
            std::string(what) + " " + std::to_string(p) + " element " + std::to_string(e);
        if (k >= fs.size())
          mismatch(at + " is missing");
        const Field &f = fs[k++];
        if (f.port != static_cast<int>(p) || f.element != static_cast<int64_t>(e) || f.lsb != lsb ||
            f.width != int_width(iv.lo, iv.hi) || f.is_signed != (iv.lo < 0) || f.f != iv.f)
          mismatch(at + " differs (" + std::to_string(f.width) + " bits at 2^-" +
                   std::to_string(f.f) + " in the design, range " + iv.str() + " in the model)");
        lsb += f.width;
      }
    if (k != fs.size())
      mismatch(std::string("the design has more ") + what + " fields than the model");
    return lsb;
  };
  if (check(d.in, in_ranges, "input") != d.in_width)
    mismatch("the input bus width differs");
  std::vector<const ValueRange *> out_ranges;
  for (ValueId v : g.outputs)
    out_ranges.push_back(&*ra.ranges[v]);
  if (check(d.out, out_ranges, "output") != d.out_width)
    mismatch("the output bus width differs");
}

std::string port_code(const char *port, int64_t width, bool set) {
  int64_t words = (width + 31) / 32;
  std::ostringstream os;
  if (width <= 32) {
    os << (set ? std::string("  m->") + port + " = w[0];\n"
               : std::string("  w[0] = static_cast<uint32_t>(m->") + port + ");\n");
  } else if (width <= 64) {
    if (set)
      os << "  m->" << port
         << " = static_cast<uint64_t>(w[0]) | (static_cast<uint64_t>(w[1]) << 32);\n";
    else
      os << "  w[0] = static_cast<uint32_t>(m->" << port << ");\n  w[1] = static_cast<uint32_t>(m->"
         << port << " >> 32);\n";
  } else {
    os << "  for (int i = 0; i < " << words << "; ++i)\n"
       << (set ? std::string("    m->") + port + "[i] = w[i];\n"
               : std::string("    w[i] = m->") + port + "[i];\n");
  }
  return os.str();
}

std::string harness(const Design &d) {
  int64_t iw = (d.in_width + 31) / 32, ow = (d.out_width + 31) / 32;
  std::string V = "V" + d.top;
  std::ostringstream os;
  os << "// Generated by hgqc verify: streams input vectors through " << d.top << ".\n"
     << "#include \"" << V << ".h\"\n#include \"verilated.h\"\n"
     << "#include <cstdint>\n#include <cstdio>\n#include <cstdlib>\n#include <vector>\n\n"
     << "static void set_in(" << V << " *m, const uint32_t *w) {\n"
     << port_code("in_data", d.in_width, true) << "}\n"
     << "static void get_out(" << V << " *m, uint32_t *w) {\n"
     << port_code("out_data", d.out_width, false) << "}\n\n"
     << "int main(int argc, char **argv) {\n"
     << "  if (argc != 4) return 2;\n"
     << "  long n = std::atol(argv[3]);\n"
     << "  std::vector<uint32_t> in(static_cast<size_t>(n) * " << iw
     << "), out(static_cast<size_t>(n) * " << ow << ");\n"
     << "  FILE *fi = std::fopen(argv[1], \"rb\");\n"
     << "  if (!fi || std::fread(in.data(), 4, in.size(), fi) != in.size()) return 2;\n"
     << "  std::fclose(fi);\n"
     << "  VerilatedContext ctx;\n  " << V << " *m = new " << V << "(&ctx);\n"
     << "  m->clk = 0;\n  m->in_valid = 0;\n"
     << (d.reset ? "  m->rst = 1;\n" : "") << "  m->eval();\n"
     << "  for (int i = 0; i < 2; ++i) { m->clk = 1; m->eval(); m->clk = 0; m->eval(); }\n"
     << (d.reset ? "  m->rst = 0;\n" : "")
     << "  long sent = 0, got = 0, cycle = 0, first = -1, limit = n + n / 97 + " << d.latency + 8
     << ";\n"
     << "  while (got < n && cycle < limit) {\n"
     << "    bool bubble = sent % 97 == 96 && (cycle % 2 == 0);\n"
     << "    if (sent < n && !bubble) {\n"
     << "      set_in(m, &in[static_cast<size_t>(sent) * " << iw << "]);\n"
     << "      m->in_valid = 1;\n      ++sent;\n"
     << "    } else {\n      m->in_valid = 0;\n    }\n"
     << "    m->clk = 1;\n    m->eval();\n    ++cycle;\n"
     << "    if (m->out_valid) {\n"
     << "      if (first < 0) first = cycle;\n"
     << "      get_out(m, &out[static_cast<size_t>(got) * " << ow << "]);\n      ++got;\n    }\n"
     << "    m->clk = 0;\n    m->eval();\n  }\n"
     << "  m->final();\n  delete m;\n"
     << "  FILE *fo = std::fopen(argv[2], \"wb\");\n"
     << "  if (!fo || std::fwrite(out.data(), 4, out.size(), fo) != out.size()) return 2;\n"
     << "  std::fclose(fo);\n"
     << "  std::printf(\"%ld %ld\\n\", got, first);\n  return got == n ? 0 : 3;\n}\n";
  return os.str();
}

void put_bits(std::vector<uint32_t> &w, size_t base, int64_t lsb, int width, int64_t q) {
  auto u = static_cast<uint64_t>(q);
  for (int b = 0; b < width; ++b) {
    uint64_t bit = b < 64 ? (u >> b) & 1 : (q < 0 ? 1 : 0);
    if (bit)
      w[base + static_cast<size_t>((lsb + b) / 32)] |= uint32_t{1} << ((lsb + b) % 32);
  }
}

int64_t get_bits(const std::vector<uint32_t> &w, size_t base, int64_t lsb, int width,
                 bool is_signed) {
  uint64_t u = 0;
  for (int b = 0; b < width && b < 64; ++b)
    if ((w[base + static_cast<size_t>((lsb + b) / 32)] >> ((lsb + b) % 32)) & 1)
      u |= uint64_t{1} << b;
  if (is_signed && width < 64 && ((u >> (width - 1)) & 1))
    u |= ~uint64_t{0} << width;
  return static_cast<int64_t>(u);
}

std::string bus_hex(const std::vector<uint32_t> &w, size_t base, int64_t words) {
  static const char *d = "0123456789abcdef";
  std::string s;
  for (int64_t i = words; i-- > 0;)
    for (int k = 7; k >= 0; --k)
      s += d[(w[base + static_cast<size_t>(i)] >> (4 * k)) & 15];
  size_t nz = s.find_first_not_of('0');
  return nz == std::string::npos ? "0" : s.substr(nz);
}

struct SimRun {
  std::vector<uint32_t> out;
  int64_t first_valid = 0;
  double build_seconds = 0, sim_seconds = 0;
  int64_t lint_warnings = -1;
};

SimRun run_verilator(const Design &d, const std::string &vfile, const fs::path &work,
                     const VerifyOptions &o, const std::vector<uint32_t> &in_words) {
  std::string verilator = require_program(o.verilator, "verilator");
  const int64_t ow = (d.out_width + 31) / 32;
  std::string log = (work / "verilator.log").string();
  fs::remove(log);
  {
    std::ofstream h(work / "harness.cpp");
    h << harness(d);
  }
  SimRun r;
  auto t0 = std::chrono::steady_clock::now();
  // The generated C++ is compiled without optimisation (-O0 for Verilator's fast, slow and
  // runtime files): for a large design the C++ compile is most of verify's time, and -O0
  // compiles 3x faster than -Os/-O1 while 100k vectors still simulate in seconds. -Wall: the
  // log also holds Verilator's full lint of the design (warnings are not fatal).
  std::vector<std::string> cmd = {verilator,
                                  "--cc",
                                  "--exe",
                                  "--build",
                                  "-j",
                                  std::to_string(std::max(o.jobs, 1)),
                                  "-Wall",
                                  "-Wno-fatal",
                                  "--top-module",
                                  d.top,
                                  "-Mdir",
                                  (work / "obj").string(),
                                  "-MAKEFLAGS",
                                  "OPT_FAST=-O0 OPT_SLOW=-O0 OPT_GLOBAL=-O0",
                                  "-o",
                                  "sim",
                                  fs::absolute(vfile).string(),
                                  fs::absolute(work / "harness.cpp").string()};
  if (run_program(cmd, log) != 0)
    throw UserError("Verilator could not build the design; see " + log);
  r.build_seconds = seconds_since(t0);
  {
    std::ifstream lf(log);
    r.lint_warnings = 0;
    for (std::string line; std::getline(lf, line);)
      r.lint_warnings += line.rfind("%Warning-", 0) == 0;
  }
  std::string in_bin = (work / "in.bin").string(), out_bin = (work / "out.bin").string(),
              sim_log = (work / "sim.log").string();
  {
    std::ofstream f(in_bin, std::ios::binary);
    f.write(reinterpret_cast<const char *>(in_words.data()),
            static_cast<std::streamsize>(in_words.size() * 4));
  }
  fs::remove(sim_log);
  t0 = std::chrono::steady_clock::now();
  int rc = run_program(
      {(work / "obj" / "sim").string(), in_bin, out_bin, std::to_string(o.vectors)}, sim_log);
  r.sim_seconds = seconds_since(t0);
  r.out.assign(static_cast<size_t>(o.vectors * ow), 0);
  std::ifstream f(out_bin, std::ios::binary);
  if (rc != 0 || !f.read(reinterpret_cast<char *>(r.out.data()),
                         static_cast<std::streamsize>(r.out.size() * 4)))
    throw CheckFailed("the simulation did not deliver every output (exit " + std::to_string(rc) +
                      "): the valid signal was lost; see " + sim_log);
  std::ifstream sl(sim_log);
  int64_t got = 0;
  sl >> got >> r.first_valid;
  return r;
}

// Hex text of a bus value of `words` 32-bit words (most significant first).
std::string words_hex(const uint32_t *w, int64_t words) {
  static const char *dg = "0123456789abcdef";
  std::string s;
  for (int64_t i = words; i-- > 0;)
    for (int k = 7; k >= 0; --k)
      s += dg[(w[i] >> (4 * k)) & 15];
  return s;
}

SimRun run_iverilog(const Design &d, const std::string &vfile, const fs::path &work,
                    const VerifyOptions &o, const std::vector<uint32_t> &in_words) {
  std::string iverilog = require_program("iverilog", "iverilog");
  std::string vvp = require_program("vvp", "iverilog");
  const int64_t iw = (d.in_width + 31) / 32, ow = (d.out_width + 31) / 32;
  std::string in_hex = fs::absolute(work / "in.hex").string(),
              out_hex = fs::absolute(work / "out.hex").string();
  {
    std::ofstream f(in_hex);
    for (int64_t v = 0; v < o.vectors; ++v)
      f << words_hex(&in_words[static_cast<size_t>(v * iw)], iw) << "\n";
  }
  std::ostringstream tb;
  tb << "// Generated by hgqc verify: streams input vectors through " << d.top << ".\n"
     << "`timescale 1ns / 1ps\nmodule hgqc_tb;\n"
     << "  reg clk = 1'b0;\n  reg rst = 1'b1;\n  reg in_valid = 1'b0;\n"
     << "  reg [" << d.in_width - 1 << ":0] in_data = 0;\n  wire out_valid;\n"
     << "  wire [" << d.out_width - 1 << ":0] out_data;\n"
     << "  reg [" << d.in_width - 1 << ":0] vin [0:" << o.vectors - 1 << "];\n"
     << "  integer fo, sent, got, cycle, first;\n"
     << "  " << d.top << " dut (.clk(clk), " << (d.reset ? ".rst(rst), " : "")
     << ".in_valid(in_valid), .in_data(in_data), .out_valid(out_valid), .out_data(out_data));\n"
     << "  initial begin\n"
     << "    $readmemh(\"" << in_hex << "\", vin);\n"
     << "    fo = $fopen(\"" << out_hex << "\", \"w\");\n"
     << "    repeat (2) begin #1 clk = 1'b1; #1 clk = 1'b0; end\n"
     << "    rst = 1'b0;\n    sent = 0; got = 0; cycle = 0; first = -1;\n"
     << "    while (got < " << o.vectors << " && cycle < " << o.vectors + d.latency + 8
     << ") begin\n"
     << "      if (sent < " << o.vectors << ") begin in_data = vin[sent]; in_valid = 1'b1; "
     << "sent = sent + 1; end else in_valid = 1'b0;\n"
     << "      #1 clk = 1'b1;\n      #1 cycle = cycle + 1;\n"
     << "      if (out_valid === 1'b1) begin\n"
     << "        if (first < 0) first = cycle;\n"
     << "        $fdisplay(fo, \"%h\", out_data);\n        got = got + 1;\n      end\n"
     << "      clk = 1'b0;\n    end\n"
     << "    $fclose(fo);\n    $display(\"%0d %0d\", got, first);\n    $finish;\n  end\n"
     << "endmodule\n";
  {
    std::ofstream f(work / "tb.v");
    f << tb.str();
  }
  SimRun r;
  std::string log = (work / "iverilog.log").string(), sim_log = (work / "sim.log").string();
  fs::remove(log);
  fs::remove(sim_log);
  std::string vvp_file = (work / "sim.vvp").string();
  auto t0 = std::chrono::steady_clock::now();
  if (run_program({iverilog, "-g2001", "-o", vvp_file, (work / "tb.v").string(),
                   fs::absolute(vfile).string()},
                  log) != 0)
    throw UserError("Icarus Verilog could not compile the design; see " + log);
  r.build_seconds = seconds_since(t0);
  t0 = std::chrono::steady_clock::now();
  int rc = run_program({vvp, "-n", vvp_file}, sim_log);
  r.sim_seconds = seconds_since(t0);
  std::ifstream sl(sim_log);
  int64_t got = 0;
  sl >> got >> r.first_valid;
  if (rc != 0 || got != o.vectors)
    throw CheckFailed("the Icarus simulation did not deliver every output; see " + sim_log);
  r.out.assign(static_cast<size_t>(o.vectors * ow), 0);
  std::ifstream f(out_hex);
  std::string line;
  for (int64_t v = 0; v < o.vectors && std::getline(f, line); ++v) {
    // Hex digits, most significant first; x or z digits make the value unreadable.
    if (line.find_first_not_of("0123456789abcdef") != std::string::npos)
      throw CheckFailed("output " + std::to_string(v) + " holds unknown bits: " + line);
    int64_t bit = 0;
    for (size_t k = line.size(); k-- > 0; bit += 4) {
      uint32_t dgt = static_cast<uint32_t>(std::stoul(line.substr(k, 1), nullptr, 16));
      for (int b = 0; b < 4; ++b)
        if (((dgt >> b) & 1) && bit + b < ow * 32)
          r.out[static_cast<size_t>(v * ow + (bit + b) / 32)] |= uint32_t{1} << ((bit + b) % 32);
    }
  }
  return r;
}

// The emulator's outputs of every vector packed as the design's output bus (`ow` words per
// vector), computed in chunks of about 2^20 input elements (at most 20000 vectors): the
// emulator's values of a chunk stay small enough for the allocator to reuse.
std::vector<uint32_t> emulate(const Graph &g, const RangeAnalysis &ra, const Design &d,
                              const std::vector<Tensor> &xs, int64_t vectors, int64_t ow) {
  std::vector<uint32_t> out(static_cast<size_t>(vectors * ow), 0);
  int64_t in_per = 1;
  for (const Tensor &x : xs)
    in_per += x.numel() / x.shape()[0];
  const int64_t chunk = std::clamp<int64_t>((int64_t{1} << 20) / in_per, 64, 20000);
  for (int64_t s0 = 0; s0 < vectors; s0 += chunk) {
    int64_t cnt = std::min(chunk, vectors - s0);
    std::vector<Tensor> part;
    for (const Tensor &x : xs) {
      Dims dd = x.shape();
      int64_t per = x.numel() / dd[0];
      dd[0] = cnt;
      Tensor t(DType::Float64, dd);
      for (int64_t j = 0; j < cnt * per; ++j)
        t[j] = x[s0 * per + j];
      part.push_back(std::move(t));
    }
    FixedRun run = evaluate_fixed(g, ra, part);
    for (int64_t s = 0; s < cnt; ++s)
      for (const Field &f : d.out) {
        const FixedTensor &y = run.outputs[static_cast<size_t>(f.port)];
        int64_t per = static_cast<int64_t>(y.q.size()) / cnt;
        int64_t q = y.q[static_cast<size_t>(s * per + f.element)];
        auto base = static_cast<size_t>((s0 + s) * ow);
        put_bits(out, base, f.lsb, f.width, q);
        HGQC_ASSERT(get_bits(out, base, f.lsb, f.width, f.is_signed) == q,
                    "the emulator's output element " + std::to_string(f.element) +
                        " does not fit its " + std::to_string(f.width) + "-bit field");
      }
  }
  return out;
}

} // namespace

VerifyResult verify_design(const std::string &rtl_dir, const Graph &g, const RangeAnalysis &ra,
                           const VerifyOptions &o) {
  Design d = read_report(rtl_dir);
  check_fields(d, g, ra);
  std::string vfile = (fs::path(rtl_dir) / d.file).string();
  if (!fs::exists(vfile))
    throw UserError("the Verilog file named by report.json is missing", {vfile});
  if (o.simulator != "verilator" && o.simulator != "iverilog")
    throw UserError("--simulator '" + o.simulator + "' is not supported (verilator, iverilog)");
  if (o.vectors < 1)
    throw UserError("--vectors must be at least 1");

  // Vectors: data rows, data rows x2, then random ones.
  VerifyResult res;
  res.latency = d.latency;
  int64_t rows = 0;
  if (!o.data.empty()) {
    HGQC_ASSERT(o.data.size() == g.inputs.size(), "data tensors per input");
    rows = std::min(o.data[0].shape()[0], o.vectors / 4);
  }
  int64_t n_rand = o.vectors - 2 * rows;
  std::vector<Tensor> rand = random_inputs(g, ra, n_rand, o.seed);
  std::vector<Tensor> xs;
  for (size_t i = 0; i < g.inputs.size(); ++i) {
    Dims dd = rand[i].shape();
    int64_t per = dims_numel(dd) / n_rand;
    dd[0] = o.vectors;
    Tensor x(DType::Float64, dd);
    for (int64_t s = 0; s < rows; ++s)
      for (int64_t e = 0; e < per; ++e) {
        double v = o.data[i][s * per + e];
        x[s * per + e] = v;
        x[(rows + s) * per + e] = 2 * v;
      }
    for (int64_t j = 0; j < n_rand * per; ++j)
      x[2 * rows * per + j] = rand[i][j];
    xs.push_back(std::move(x));
  }
  auto kind_of = [&](int64_t v) -> const char * {
    if (v < rows)
      return "data";
    if (v < 2 * rows)
      return "data_x2";
    return (v - 2 * rows) % 16 == 15 ? "extreme" : "random";
  };
  for (int64_t v = 0; v < o.vectors; ++v)
    ++res.kinds[kind_of(v)];
  std::vector<FixedTensor> q = quantized_inputs(g, ra, xs);
  const int64_t iw = (d.in_width + 31) / 32, ow = (d.out_width + 31) / 32;
  std::vector<uint32_t> in_words(static_cast<size_t>(o.vectors * iw), 0);
  for (int64_t v = 0; v < o.vectors; ++v)
    for (const Field &f : d.in) {
      int64_t per = static_cast<int64_t>(q[static_cast<size_t>(f.port)].q.size()) / o.vectors;
      put_bits(in_words, static_cast<size_t>(v * iw), f.lsb, f.width,
               q[static_cast<size_t>(f.port)].q[static_cast<size_t>(v * per + f.element)]);
    }

  // Build and run.
  fs::path work = fs::path(rtl_dir) / "verify";
  std::error_code ec;
  fs::create_directories(work, ec);
  if (ec)
    throw UserError("cannot create the verification directory: " + ec.message(), {work.string()});
  // The emulator runs on a second thread while the simulator builds and runs.
  std::future<std::vector<uint32_t>> emulated =
      std::async(std::launch::async, [&] { return emulate(g, ra, d, xs, o.vectors, ow); });
  SimRun sim = o.simulator == "iverilog" ? run_iverilog(d, vfile, work, o, in_words)
                                         : run_verilator(d, vfile, work, o, in_words);
  const std::vector<uint32_t> want_words = emulated.get();
  res.build_seconds = sim.build_seconds;
  res.sim_seconds = sim.sim_seconds;
  res.lint_warnings = sim.lint_warnings;
  res.first_valid_cycle = sim.first_valid;
  const std::vector<uint32_t> &out_words = sim.out;

  // Compare with the emulator.
  res.vectors = o.vectors;
  for (int64_t v = 0; v < o.vectors; ++v) {
    bool bad = false;
    auto base = static_cast<size_t>(v * ow);
    for (const Field &f : d.out) {
      int64_t want = get_bits(want_words, base, f.lsb, f.width, f.is_signed);
      int64_t got = get_bits(out_words, base, f.lsb, f.width, f.is_signed);
      if (got == want)
        continue;
      bad = true;
      ++res.mismatched_elements;
      if (res.first.size() < o.report)
        res.first.push_back(
            Mismatch{v, kind_of(v), g.values[g.outputs[static_cast<size_t>(f.port)]].name,
                     f.element, want, got, bus_hex(in_words, static_cast<size_t>(v * iw), iw)});
    }
    res.mismatched_vectors += bad;
  }

  nlohmann::json j;
  j["vectors"] = res.vectors;
  j["kinds"] = res.kinds;
  j["mismatched_vectors"] = res.mismatched_vectors;
  j["mismatched_elements"] = res.mismatched_elements;
  j["latency_cycles"] = res.latency;
  j["first_valid_cycle"] = res.first_valid_cycle;
  nlohmann::json list = nlohmann::json::array();
  for (const Mismatch &m : res.first)
    list.push_back({{"vector", m.vector},
                    {"kind", m.kind},
                    {"output", m.output},
                    {"element", m.element},
                    {"expected", m.expected},
                    {"got", m.got},
                    {"input_bus_hex", m.input_hex}});
  j["first_mismatches"] = list;
  std::string path = (fs::path(rtl_dir) / "mismatches.json").string();
  write_file_atomic(path, j.dump(2) + "\n");
  return res;
}

} // namespace hgqc::backend
