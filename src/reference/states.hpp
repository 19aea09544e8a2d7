// Where a reference's states live: y(sample, m, coord), the canonical state of each sample at each
// requested time. Indexed so everywhere; stored time-major on host backends: all samples' states
// at one time are contiguous (coordinates fastest), so a kernel's pack of samples reads one block
// per grid point, where sample-major rows put its samples thousands of times apart (a cache line
// and a TLB entry each, with no hardware prefetch). On other backends the sample index is fastest
// (coalesced reads over threads).
#pragma once

#include <Kokkos_Core.hpp>
#include <type_traits>

namespace pfode::reference {

using States = Kokkos::View<double***, Kokkos::LayoutStride>;

// Whether States are time-major on this backend (host-accessible memory).
inline constexpr bool time_major_states =
    Kokkos::SpaceAccessibility<Kokkos::HostSpace, States::memory_space>::accessible;

// Layouts of `samples` x `outputs` x `dim` states whose times are `row` samples apart: a solve's
// states (row = samples), or a range of its samples within them.
inline Kokkos::LayoutStride time_major(int samples, int outputs, int dim, int row) {
  const auto n = [](int v) { return static_cast<size_t>(v); };
  return Kokkos::LayoutStride(n(samples), n(dim), n(outputs), n(row) * n(dim), n(dim), 1);
}
inline Kokkos::LayoutStride sample_fastest(int samples, int outputs, int dim, int row) {
  const auto n = [](int v) { return static_cast<size_t>(v); };
  return Kokkos::LayoutStride(n(samples), 1, n(outputs), n(row), n(dim), n(row) * n(outputs));
}
inline Kokkos::LayoutStride states_layout(int samples, int outputs, int dim, int row) {
  return time_major_states ? time_major(samples, outputs, dim, row) : sample_fastest(samples, outputs, dim, row);
}

// Uninitialised states (every entry is written by the solve).
States allocate_states(int samples, int outputs, int dim);

// The states of samples [first, first + count) of `all`, in place.
inline States sample_range(const States& all, int first, int count) {
  const int samples = static_cast<int>(all.extent(0)), outputs = static_cast<int>(all.extent(1));
  const int dim = static_cast<int>(all.extent(2));
  return States(all.data() + (time_major_states ? static_cast<size_t>(first) * dim : static_cast<size_t>(first)),
                states_layout(count, outputs, dim, samples));
}

}  // namespace pfode::reference
