// Compiles the solvers and the DOP853 reference for one device model kind (model/concept.hpp):
// each kind's translation unit in this folder includes this header and its kind, and expands
// PFODE_INSTANTIATE_MODEL_KIND once. Every method, layout and kernel is instantiated per kind, so
// one unit per kind keeps each compilation the size of one kind's, and lets them build in parallel.
#pragma once

#include "reference/dop853_kernel.hpp"
#include "solver/run_impl.hpp"
#include "solver/sample_impl.hpp"

#define PFODE_INSTANTIATE_MODEL_KIND(Model)                                                                        \
  template pfode::solver::SolverRun pfode::solver::run_solver<Model>(                                            \
      const pfode::solver::SolverSpec&, const pfode::solver::StepGrid&, const Model&,                            \
      const pfode::solver::ExactStates&, int, bool, const pfode::lane::KernelLayout&,                            \
      const pfode::solver::StateRecord&);                                                                        \
  template pfode::solver::SampleRun pfode::solver::sample_solver<Model>(                                         \
      const pfode::solver::SolverSpec&, const pfode::solver::StepGrid&, const Model&,                            \
      Kokkos::View<const double**>, const pfode::solver::SampleSettings&, double);                                \
  template void pfode::reference::dop853<pfode::lane::pack_width, Model>(                                        \
      const std::string&, const Model&, Kokkos::View<const double**>, Kokkos::View<const double*>,              \
      const pfode::reference::Dop853Settings&, const pfode::lane::NfeCounter&, const pfode::reference::States&,    \
      const Kokkos::View<int*>&, const Kokkos::View<long**>&, pfode::lane::TeamShape);
