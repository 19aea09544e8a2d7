# A scored run's total error compares its final state with the exact state scaled by alpha at the start of its grid.
# file: src/external/score.cpp
# kills: external | external: runs on an imperfect model get the error split*
s|sweep::set_error_split(cell, reference, index, final_state, sched.alpha(run.t.back()), samples);|sweep::set_error_split(cell, reference, index, final_state, sched.alpha(run.t.front()), samples);|
