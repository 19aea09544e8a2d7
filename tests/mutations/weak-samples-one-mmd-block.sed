# run.weak_samples accepts a single MMD block (weak_samples >= mmd_block), whose MMD has no interval and is NaN.
# file: src/sweep/experiment.cpp
# kills: cli | cli: stochastic samplers*
s|std::max<long>(64, 2L \* e.mmd_block))|std::max<long>(64, e.mmd_block))|
