// D(y, s) of a batch of points on the device, for host code that needs the denoiser outside a
// solver: tests, the cross-check of the Python exact denoisers, the denoiser error of a model.
#pragma once

#include <vector>

#include "model/kinds.hpp"

namespace pfode::model {

// D(y_p, s_p) of every point p (rows of y, points x dim, row-major), each at its own s, one point
// per thread with each kind's per-sample arithmetic. Point p is batch sample sample_of[p] for
// per-sample model data (a guided model's class), or sample p when sample_of is empty.
std::vector<double> denoise_points(const DeviceModel& model, const std::vector<double>& y,
                                   const std::vector<double>& s, const std::vector<int>& sample_of = {});

}  // namespace pfode::model
