# pfode likelihood does not check the cells' grids before its cells run: a budget below one step stops it midway, exit 1.
# file: src/app/likelihood_command.cpp
# kills: likelihood | likelihood: pfode likelihood writes*
s|for (int budget : e.nfe) solver_grid(e, entry, sp, so, budget);|for (int budget : std::vector<int>{}) solver_grid(e, entry, sp, so, budget);|
