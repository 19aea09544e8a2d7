// `pfode likelihood CONFIG`: log-likelihoods through the PF-ODE and their error budget
// (likelihood/likelihood.hpp) for the models, schedules, seeds, (spacing, solver) pairs and
// budgets of an experiment file, with the settings of its [likelihood] section.
#pragma once

#include <string>
#include <vector>

#include "likelihood/likelihood.hpp"

namespace pfode::app {

struct LikelihoodOptions {
  std::string config;
  std::string out;                     // overrides run.out when not empty
  std::vector<std::string> overrides;  // section.key=value
  bool force = false;                  // replace an existing output file
  bool quiet = false;
};

// The [likelihood] section (README.md, "Likelihood"), validated.
struct LikelihoodSettings {
  likelihood::Divergence divergence;  // probes = 0: the exact divergence
  bool prior_sigma = false;           // prior = sigma: N(0, sigma_T^2 I); total: N(0, (alpha_T^2 + sigma_T^2) I)
  std::vector<std::string> presets;
  std::string resolved;               // the section as read, every key with its value, as INI text
};
// Throws std::invalid_argument naming the problem (no section, an unknown key, a bad value).
LikelihoodSettings read_likelihood_settings(const std::string& config, const std::vector<std::string>& overrides);

int likelihood_command(const LikelihoodOptions& options, int argc, char** argv);

}  // namespace pfode::app
