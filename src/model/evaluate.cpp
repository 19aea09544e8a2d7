#include "model/evaluate.hpp"

#include <stdexcept>
#include <variant>

namespace pfode::model {

namespace {

template <class Model>
std::vector<double> denoise_points_of(const Model& model, const std::vector<double>& y, const std::vector<double>& s) {
  const int n = static_cast<int>(s.size()), dim = model.dimension();
  if (y.size() != static_cast<size_t>(n) * dim) throw std::invalid_argument("denoise_points: y must be points x dim");
  using P = Pack<1>;
  Kokkos::View<P**> in("pfode::model::points_in", n, dim), out("pfode::model::points_out", n, dim);
  const int first_value = model.s_scratch_size();
  Kokkos::View<P**> scratch("pfode::model::points_scratch", n, first_value + model.value_scratch_size());
  Kokkos::View<double*> s_view("pfode::model::points_s", n);
  auto in_h = Kokkos::create_mirror_view(in);
  auto s_h = Kokkos::create_mirror_view(s_view);
  for (int p = 0; p < n; ++p) {
    s_h(p) = s[p];
    for (int j = 0; j < dim; ++j) in_h(p, j) = y[static_cast<size_t>(p) * dim + j];
  }
  Kokkos::deep_copy(in, in_h);
  Kokkos::deep_copy(s_view, s_h);
  Kokkos::parallel_for(
      "pfode::model::denoise_points", Kokkos::RangePolicy<>(0, n), KOKKOS_LAMBDA(int p) {
        model.template denoise<1>([&](int) { return p; }, [&](int j) -> const P& { return in(p, j); }, s_view(p),
                                  [&](int j) -> P& { return out(p, j); },
                                  [&](int i) -> double& { return scratch(p, i)[0]; },
                                  [&](int i) -> P& { return scratch(p, first_value + i); });
      });
  auto out_h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), out);
  std::vector<double> d(y.size());
  for (int p = 0; p < n; ++p)
    for (int j = 0; j < dim; ++j) d[static_cast<size_t>(p) * dim + j] = out_h(p, j)[0];
  return d;
}

}  // namespace

std::vector<double> denoise_points(const DeviceModel& model, const std::vector<double>& y,
                                   const std::vector<double>& s, const std::vector<int>& sample_of) {
  DeviceModel m = model;
  if (!sample_of.empty()) {
    if (sample_of.size() != s.size()) throw std::invalid_argument("denoise_points: one sample index per point");
    Kokkos::View<int*> index("pfode::model::points_sample", sample_of.size());
    auto h = Kokkos::create_mirror_view(index);
    for (size_t p = 0; p < sample_of.size(); ++p) h(p) = sample_of[p];
    Kokkos::deep_copy(index, h);
    m = for_samples(model, index);
  }
  return std::visit([&](const auto& kind) { return denoise_points_of(kind, y, s); }, m);
}

}  // namespace pfode::model
