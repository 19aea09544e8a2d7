// Large host buffers that a kernel fills once (the reference's states: samples x thousands of
// output times x dim doubles, hundreds of MB per group) are mapped afresh by malloc, and their first
// touch faults in one 4 KiB page at a time: at 1024 samples that was ~300 000 faults and ~15 % of a
// convergence-orders sweep's time, in the kernel. Asking for transparent huge pages (2 MiB) cuts
// the faults 512-fold. Only advice: where the kernel has none, nothing changes, and the numbers
// never do.
#pragma once

#include <Kokkos_Core.hpp>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#ifdef __linux__
#include <sys/mman.h>
#endif

namespace pfode::common {

template <class View>
void prefer_huge_pages(const View& view) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  if constexpr (std::is_same_v<typename View::memory_space, Kokkos::HostSpace>) {
    constexpr std::uintptr_t page = 4096, huge = std::uintptr_t{2} << 20;
    const std::size_t bytes = view.span() * sizeof(typename View::value_type);
    if (bytes < 2 * huge) return;
    const auto begin = (reinterpret_cast<std::uintptr_t>(view.data()) + page - 1) & ~(page - 1);
    const auto end = (reinterpret_cast<std::uintptr_t>(view.data()) + bytes) & ~(page - 1);
    madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
  }
#else
  (void)view;
#endif
}

}  // namespace pfode::common
