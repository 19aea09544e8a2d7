# The order fit's asymptotic range grows by testing the local order already inside it, not the one it would add: one pre-asymptotic point too many.
# file: src/metrics/order_fit.cpp
# kills: metrics | order fit: pre-asymptotic points and the error floor are left out
s|std::fabs(fit\.local_order\[first - 1\] - asymptotic)|std::fabs(fit.local_order[first] - asymptotic)|
