# DOP853's first evaluation, f at the start, is not counted: NFE = 12 x attempted steps.
# file: src/reference/dop853_kernel.hpp
# kills: reference | reference: DOP853 spends 1 + 12 x*
s|    derivative(l, y_slot, u, stage_slot, active);|    const bool uncounted[W] = {}; derivative(l, y_slot, u, stage_slot, uncounted);|
