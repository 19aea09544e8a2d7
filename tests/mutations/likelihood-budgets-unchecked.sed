# pfode likelihood does not check the (solver, NFE) budgets before its cells run: a budget below one step stops it midway, exit 1.
# file: src/app/likelihood_command.cpp
# kills: likelihood | likelihood: pfode likelihood writes*
s|for (int budget : e.nfe) try {|for (int budget : std::vector<int>{}) try {|
