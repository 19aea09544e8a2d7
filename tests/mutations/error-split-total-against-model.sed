# The total error of an imperfect model is measured against its own reference instead of the exact one.
# file: src/sweep/runner.cpp
# kills: perturbed | error split: both references*
s|const auto y_exact = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), reference.exact.y);|const auto y_exact = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), reference.solution.y);|
