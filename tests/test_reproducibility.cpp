// The numbers of a sample do not depend on how many other samples share its batch.
#include <catch2/catch.hpp>

#include "support.hpp"

using namespace pfode;

TEST_CASE("a sample's errors are the same whatever the batch size", "[reproducibility]") {
  const auto m = model::random_mixture("mix", 5, 4, 11, 1.5, 0.3, 0.6);
  auto small = test::experiment(m, "vp-cosine", "karras", "heun", {10, 40}, 7);
  auto large = small;
  large.samples = 29;
  const auto a = test::run_cells(small);
  const auto b = test::run_cells(large);
  REQUIRE(a.size() == b.size());
  for (size_t c = 0; c < a.size(); ++c) {
    for (int p = 0; p < 7; ++p) REQUIRE(a[c].gte[p] == b[c].gte[p]);  // bit for bit
    REQUIRE(a[c].nfe == b[c].nfe);
  }
}
