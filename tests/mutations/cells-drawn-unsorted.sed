# Ranks on one node draw a group's cells in plan order instead of largest estimated cost first.
# file: src/sweep/runner.cpp
# kills: sweep | ranks on one node: each rank draws*
s|    if (drawn) sort_by_cost(e, plan, todo);|    (void)drawn;|
