#include "sweep/series.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <tuple>

namespace pfode::sweep {

namespace {
constexpr double kWeakBand = 0.5;

// results::SeriesFit::lambda_step_order. A grid ending at sigma = 0 (lambda infinite) ends with a
// denoising step, not an ODE step: only finite steps count.
double lambda_step_order(const std::vector<const results::CellResult*>& members, const std::vector<double>& nfe,
                         const metrics::OrderFit& gte) {
  if (!gte.valid || members[gte.first]->lambda.size() >= members[gte.last]->lambda.size())
    return std::numeric_limits<double>::quiet_NaN();
  std::vector<double> largest;
  for (const auto* c : members) {
    double step = 0.0;
    for (size_t i = 0; i + 1 < c->lambda.size(); ++i) {
      const double h = std::fabs(c->lambda[i + 1] - c->lambda[i]);
      if (std::isfinite(h)) step = std::max(step, h);
    }
    largest.push_back(step);
  }
  return metrics::log_log_order(nfe, largest, gte.first, gte.last);
}
}  // namespace

std::vector<results::SeriesFit> fit_series(const std::vector<results::CellResult>& cells) {
  // The theory is part of the key: a budget can change a solver's order (DPM-Solver-fast's order
  // mix depends on NFE mod 3), and one slope through budgets of different orders means nothing.
  using Key = std::tuple<std::string, std::string, std::string, std::string, long, long, long>;
  std::map<Key, std::vector<const results::CellResult*>> series;
  std::vector<Key> order;  // first appearance, so the output follows the plan
  for (const auto& c : cells) {
    Key key{c.model, c.schedule, c.spacing, c.solver, c.seed, c.order_theory, c.lte_order_theory};
    if (!series.count(key)) order.push_back(key);
    series[key].push_back(&c);
  }
  std::vector<results::SeriesFit> fits;
  for (const auto& key : order) {
    auto members = series[key];
    std::stable_sort(members.begin(), members.end(), [](auto* a, auto* b) { return a->nfe_mean < b->nfe_mean; });
    results::SeriesFit f;
    std::tie(f.model, f.schedule, f.spacing, f.solver, f.seed, f.order_theory, f.lte_order_theory) = key;
    std::vector<double> rms, median, lte;
    std::vector<bool> floor, lte_floor;
    for (const auto* c : members) {
      f.cells.push_back(c->id);
      f.nfe.push_back(c->nfe_mean);
      rms.push_back(c->gte_summary.rms);
      median.push_back(c->gte_summary.median);
      lte.push_back(c->lte_step_median);
      const bool unusable = c->near_floor || c->status != "ok";
      floor.push_back(unusable);
      lte_floor.push_back(c->status != "ok" || c->lte_rms.empty() ||
                          c->lte_step_median <= 10.0 * c->reference_error);
    }
    f.gte = metrics::fit_order(f.nfe, rms, floor);
    f.lambda_step_order = lambda_step_order(members, f.nfe, f.gte);
    f.gte_median = metrics::fit_order(f.nfe, median, floor);
    f.lte = metrics::fit_order(f.nfe, lte, lte_floor);
    // Weak orders over the cells whose bias the Monte Carlo resolves; their noise (~10-25 % per
    // point at the edge of significance) widens the band the asymptotic range may drift in.
    f.weak_order_theory = members.front()->weak_order_theory;
    const auto weak_fit = [&](metrics::WeakEstimate results::CellResult::*field) {
      std::vector<double> value;
      std::vector<bool> unresolved;
      for (const auto* c : members) {
        value.push_back((c->*field).value);
        unresolved.push_back(c->status != "ok" || !(c->*field).significant);
      }
      return metrics::fit_order(f.nfe, value, unresolved, kWeakBand);
    };
    f.weak_mean = weak_fit(&results::CellResult::weak_mean);
    f.weak_covariance = weak_fit(&results::CellResult::weak_covariance);
    f.weak_mmd = weak_fit(&results::CellResult::weak_mmd);
    if (members.front()->split()) {  // an imperfect model: the error split (DESIGN.md section 4)
      std::vector<double> total;
      std::vector<bool> failed;
      for (const auto* c : members) {
        total.push_back(c->total_summary.rms);
        failed.push_back(c->status != "ok");
      }
      f.total = metrics::fit_order(f.nfe, total, failed);
      f.model_error = members.back()->model_error_rms.back();
      // The NFE from which on every cell's discretisation error is below its model error.
      for (size_t i = members.size(); i-- > 0 && members[i]->gte_summary.rms < members[i]->model_error_rms.back();)
        f.crossover_nfe = f.nfe[i];
    }
    fits.push_back(std::move(f));
  }
  return fits;
}

}  // namespace pfode::sweep
