# The history-dependent dp prices the step from t_i to t_j by the LTE of the padded grid's last step, not of step n.
# file: src/optimize/grid_optimizer.cpp
# kills: optimize | multistep solvers and EDM Heun: dp steps priced*
s|const double e = run.local_error\[static_cast<size_t>(s) \* steps + n\];|const double e = run.local_error[static_cast<size_t>(s) * steps + steps - 1];|
