// Calibration of a front model in passes, so that each quantizer's range is traced behind the
// saturations its upstream quantizers will really do.
#pragma once

#include "qat/dataset.h"

#include <string>

namespace hgqc {

/// calibrate_checkpoint (pareto.h), then further passes until no format changes: each pass
/// traces the model with every activation quantizer of the previous pass's formats followed by
/// a clamp at that format's largest value, so that an element downstream of a saturated
/// rounded-up maximum sees the saturated value, as the calibrated model computes it, instead of
/// the unsaturated one. A quantizer whose inputs depend on no other quantizer is final after
/// the first pass, its readers after the second, and so on. When a later pass cannot trace (a
/// format would exceed the width limits), the file gets the first pass's formats back and the
/// result is 1. Returns the number of passes whose formats the file holds.
int calibrate_in_passes(const std::string &file, const Dataset &data, double cover, int threads);

} // namespace hgqc
