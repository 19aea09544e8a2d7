// The table of fitted convergence orders that pfode run and pfode score print.
#pragma once

#include "io/results_file.hpp"

namespace pfode::app {

// One line per series: its NFE range, the GTE at the largest NFE, fitted GTE and LTE orders and theory.
void print_order_table(const io::RunRecord& record);

}  // namespace pfode::app
