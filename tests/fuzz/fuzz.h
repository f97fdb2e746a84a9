// The fuzz target's pieces: cases, seeds, mutators and the in-process pipeline.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace hgqc::fuzz {

/// One input of the fuzzer: the bytes of a file and its extension, which says how it is
/// read (".onnx" a model; ".npy", ".npz", ".csv", ".idx" a data file; ".opts" the
/// --input-* option values, one `name=value` per line, applied to a bundled model).
struct Case {
  std::string ext;
  std::string bytes;
};

/// The files the mutators start from.
struct Seeds {
  std::vector<Case> models; ///< .onnx files of testdata/ and ../shared/models
  std::vector<Case> data;   ///< .npy/.npz of testdata/, plus built-in CSV and IDX files
};

/// Reads the seeds below `source_dir`; prints a note when ../shared/models is absent.
Seeds load_seeds(const std::string &source_dir);

using Rng = std::mt19937_64;

/// Random byte edits: flips, inserts, deletions, duplications, truncation.
void mutate_bytes(std::string &bytes, Rng &rng);
/// A structure-aware mutation of an ONNX model (through onnx::ModelProto): dims, attributes,
/// dtypes, cycles, dangling inputs, duplicate names, FixedQuant/Quant formats, huge declared
/// initializers, op types, long chains. Falls back to byte edits when `bytes` does not parse.
void mutate_model(std::string &bytes, Rng &rng);
/// A mutation of a data file aware of its format (.npy header, .npz zip records, CSV text,
/// IDX header).
void mutate_data(Case &c, Rng &rng);
/// Odd values for --input-format, --input-round and --input-overflow (a ".opts" case).
Case make_options_case(Rng &rng);

/// How a case ended.
enum class Outcome {
  Ran,       ///< every stage that applies ran
  UserError, ///< a clean hgqc::UserError (or CheckFailed): the expected end of bad input
  Failure,   ///< anything else: InternalError, another exception, a broken oracle
};

/// Runs `c` in process: a model through import, normalisation, float evaluation, the
/// quantized-model checks (to_fixed, ranges, EBOPs), the integer emulator and emit_design;
/// a data file through its readers; options through finish_fixed_options and then a model.
/// The file is written to `path` first (the readers take paths). `detail` gets the message.
Outcome run_case(const Case &c, const std::string &path, const std::string &source_dir,
                 std::string &detail);

} // namespace hgqc::fuzz
