#include "app/order_table.hpp"

#include <cstdio>
#include <string>

namespace pfode::app {

namespace {

std::string format_order(const metrics::OrderFit& f) {
  if (!f.valid) return "   n/a      ";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%5.2f +- %4.2f", f.order, f.standard_error);
  return buf;
}

}  // namespace

void print_order_table(const io::RunRecord& rec) {
  std::printf("\n%-10s %-10s %-14s %-16s %9s %11s %14s %6s %14s %6s\n", "model", "schedule", "spacing", "solver",
              "NFE", "GTE (RMS)", "GTE order", "theory", "LTE order", "theory");
  for (const auto& f : rec.series) {
    const auto& last = rec.cells[f.cells.back()];
    char nfe[32];
    std::snprintf(nfe, sizeof nfe, "%g-%g", f.nfe.front(), f.nfe.back());
    std::printf("%-10s %-10s %-14s %-16s %9s %11.3e %14s %6ld %14s %6ld\n", f.model.c_str(), f.schedule.c_str(),
                f.spacing.c_str(), f.solver.c_str(), nfe, last.gte_summary.rms, format_order(f.gte).c_str(),
                f.order_theory, format_order(f.lte).c_str(), f.lte_order_theory);
  }
  std::printf("\nGTE: RMS over samples of the per-sample RMS error at t_min, at the largest NFE. Orders: least-squares\n"
              "slope of log error vs log NFE over the asymptotic points (+- standard error); cells within 10x of the\n"
              "reference's error are excluded.\n");
}

}  // namespace pfode::app
