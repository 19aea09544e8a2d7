# Adaptive solvers in packs: dopri5 keeps a sample's trial state when the pack's first sample accepted its step, not when it accepted its own.
# file: src/solver/adaptive.hpp
# kills: solvers_adaptive | adaptive solvers: a sample takes the same steps and gives the same bits in any pack width or layout
s/z\[w\] = accepted\[w\] ? trial\[w\] : z\[w\];/z[w] = accepted[0] ? trial[w] : z[w];/
