// What a sampler outside pfode needs to be scored against pfode's ground truth: the models and
// schedules of an experiment, its start states per (model, schedule, seed) and the time grids of
// its spacings and budgets. `pfode export` writes it (io/problem_file.hpp), a sampler written in
// any language runs from it, and `pfode score` reads it back to solve the references.
#pragma once

#include <string>
#include <vector>

#include "sweep/experiment.hpp"
#include "sweep/plan.hpp"
#include "sweep/runner.hpp"

namespace pfode::external {

// The start states of one (model, schedule, seed) group.
struct StartStates {
  std::string model, schedule;
  long seed = 0;
  std::vector<double> y_T;  // samples x dim, canonical y = x/alpha: where the reference starts
  std::vector<double> x_T;  // alpha(t_max) y_T, as pfode's solvers compute it: where a sampler starts
};

// The time grid a spacing gives one schedule for one step count, with the schedule's values on it
// as pfode's solvers use them (solver::make_step_grid).
struct Grid {
  std::string schedule, spacing;
  int steps = 0;
  std::vector<long> nfe_budgets;  // the experiment's budgets that some solver spends on these steps
  std::vector<double> t, alpha, sigma, lambda, s;  // steps + 1 points, t from t_max down to t_min
};

struct Problem {
  std::string id;               // fingerprint of the content (problem_fingerprint): runs name it
  std::string resolved_config;  // the experiment it was made from
  int samples = 0;
  sweep::ReferenceSettings reference;
  std::vector<model::ModelSpec> models;
  std::vector<results::ScheduleEntry> schedules;
  std::vector<StartStates> starts;
  std::vector<Grid> grids;

  // nullptr when there is none of that name (or group).
  const model::ModelSpec* find_model(const std::string& name) const;
  const results::ScheduleEntry* find_schedule(const std::string& name) const;
  const StartStates* find_start(const std::string& model, const std::string& schedule, long seed) const;
};

// The experiment's problem: every (model, schedule, seed) group's start states and every distinct
// (schedule, spacing, steps) grid of the plan's cells.
Problem make_problem(const sweep::Experiment& e, const sweep::Plan& plan);

// "<model>__<schedule>__seed<k>": the group's name in files.
std::string start_name(const StartStates& start);

// A 64-bit FNV-1a fingerprint (16 hex digits) of everything that decides a score: samples,
// reference settings, model and schedule parameters, start states and grids.
std::string problem_fingerprint(const Problem& problem);

}  // namespace pfode::external
