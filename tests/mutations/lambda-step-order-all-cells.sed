# A series' step order q is fitted over all its cells instead of the GTE fit's.
# file: src/sweep/series.cpp
# kills: sweep | series: lambda_step_order is 1 where*
s|return metrics::log_log_order(nfe, largest, gte.first, gte.last);|return metrics::log_log_order(nfe, largest, 0, static_cast<int>(largest.size()) - 1);|
