#include "app/order_table.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

namespace pfode::app {

namespace {

// The tests' tolerance on a fitted order.
constexpr double kOffTheory = 0.15;

std::string format_order(const metrics::OrderFit& f) {
  if (!f.valid) return "n/a";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f +- %.2f", f.order, f.standard_error);
  return buf;
}

}  // namespace

// One row per series; every column as wide as its longest entry, so long labels (presets,
// solvers with options) do not push the others out of line.
void print_order_table(const io::RunRecord& rec) {
  const std::vector<std::string> head = {"model", "schedule", "spacing", "solver", "seed", "NFE", "GTE (RMS)",
                                         "GTE order", "theory", "LTE order", "theory"};
  const std::vector<bool> right = {false, false, false, false, true, true, true, true, true, true, true};
  std::vector<std::vector<std::string>> rows{head};
  std::vector<std::string> off_theory;  // the notes under the table
  std::vector<bool> marked{false};      // per row (the head first): its GTE order is off theory
  for (const auto& f : rec.series) {
    const auto& last = rec.cells[f.cells.back()];
    char nfe[32], gte[32];
    std::snprintf(nfe, sizeof nfe, "%g-%g", f.nfe.front(), f.nfe.back());
    std::snprintf(gte, sizeof gte, "%.3e", last.gte_summary.rms);
    std::string order = format_order(f.gte);
    marked.push_back(f.gte.valid && std::fabs(f.gte.order - f.order_theory) > kOffTheory);
    if (marked.back()) {
      order += " *";
      char note[64];
      std::snprintf(note, sizeof note, ": %.2f against %ld, q ", f.gte.order, f.order_theory);
      char q[32] = "n/a";
      if (std::isfinite(f.lambda_step_order)) std::snprintf(q, sizeof q, "= %.2f", f.lambda_step_order);
      off_theory.push_back(f.model + "/" + f.schedule + "/" + f.spacing + "/" + f.solver + "/seed " +
                           std::to_string(f.seed) + note + q);
    }
    rows.push_back({f.model, f.schedule, f.spacing, f.solver, std::to_string(f.seed), nfe, gte, order,
                    std::to_string(f.order_theory), format_order(f.lte), std::to_string(f.lte_order_theory)});
  }
  if (!off_theory.empty())  // the marked orders' numbers in line with the others'
    for (size_t k = 0; k < rows.size(); ++k)
      if (!marked[k]) rows[k][7] += "  ";
  std::vector<int> width(head.size(), 0);
  for (const auto& row : rows)
    for (size_t k = 0; k < row.size(); ++k) width[k] = std::max(width[k], static_cast<int>(row[k].size()));
  std::printf("\n");
  for (const auto& row : rows) {
    std::string line;
    for (size_t k = 0; k < row.size(); ++k) {
      const std::string pad(width[k] - row[k].size(), ' ');
      line += (k ? "  " : "") + (right[k] ? pad + row[k] : row[k] + (k + 1 < row.size() ? pad : ""));
    }
    std::printf("%s\n", line.c_str());
  }
  std::printf("\nGTE: RMS over samples of the per-sample RMS error at the grid's end (at sigma = 0 for final=denoise\n"
              "cells under run.denoise_target = zero), at the largest NFE. Orders: least-squares slope of log error vs\n"
              "log NFE over the asymptotic points (+- standard error); cells within 10x of the reference's error are\n"
              "excluded.\n");
  if (off_theory.empty()) return;
  std::printf("* more than %.2f from theory. The grid's largest step in lambda shrinks like NFE^-q over the fitted\n"
              "NFE: q = 1 where every step shrinks like 1/NFE. Where q is well below 1 a step stays long and the\n"
              "fitted order is still pre-asymptotic (README: Time-step spacings); near 1 the grid is not the cause\n"
              "(README: Measured orders); n/a: the solver takes its own steps.\n",
              kOffTheory);
  for (const auto& line : off_theory) std::printf("  %s\n", line.c_str());
}

}  // namespace pfode::app
