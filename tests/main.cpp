// Catch2 session wrapped in Kokkos initialize/finalize, so every test can launch kernels.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <Kokkos_Core.hpp>

#include "io/hdf5.hpp"

int main(int argc, char* argv[]) {
  Kokkos::initialize(argc, argv);
  pfode::io::configure_hdf5();
  const int result = Catch::Session().run(argc, argv);
  Kokkos::finalize();
  return result;
}
