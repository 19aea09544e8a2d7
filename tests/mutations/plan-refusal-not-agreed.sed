# A rank whose plan check fails stops alone, without agreeing with the others first.
# file: src/app/run_command.cpp
# kills: mpi
s|  const int first_failed = ranks.first_failing(!plan_error.empty());|  const int first_failed = plan_error.empty() ? ranks.size() : ranks.rank();|
