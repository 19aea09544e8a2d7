// Runs of a sampler outside pfode, as `pfode score` reads them (io/runs_file.hpp): for each run
// the states it reached at the times it records (the last is its final state) from a problem's
// start states, the NFE each sample spent, and a label that names the sampler.
#pragma once

#include <limits>
#include <string>
#include <vector>

namespace pfode::external {

struct ExternalRun {
  std::string name;   // its group in the runs file
  std::string label;  // the sampler (a cell's solver; runs of one label form convergence series)
  std::string model, schedule;
  long seed = 0;
  std::string spacing = "external";  // the grid it ran on, as the results name it
  std::string options;               // free text recorded with the cell
  long order_theory = 0;             // the GTE order the sampler should have; 0: not stated
  // What the final state is compared with: "grid_end", x*(t) at the last time, or "zero", x*(0):
  // the sampler's last step went to sigma = 0 (a final denoise; the state is at alpha = 1).
  std::string target = "grid_end";
  long steps = -1;                   // -1: not stated (points - 1)
  long nfe_budget = -1;              // -1: not stated (the largest NFE spent)
  double wall_time = std::numeric_limits<double>::quiet_NaN();  // seconds, as the sampler measured it
  std::vector<double> t;             // the times of the states (points), decreasing
  std::vector<double> x;             // samples x points x dim, row-major, in the schedule's x
  std::vector<long> nfe;             // per sample
  int samples = 0, dim = 0;

  int points() const { return static_cast<int>(t.size()); }
};

struct RunsFile {
  std::string path;
  std::string problem_id;  // the problem the runs started from
  std::vector<ExternalRun> runs;
};

}  // namespace pfode::external
