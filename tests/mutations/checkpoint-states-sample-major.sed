# Checkpointed reference states are described as samples x times, not times x samples as they are stored.
# file: src/sweep/runner.cpp
# kills: mpi
s|          states.shape = {host.extent(1), host.extent(0), host.extent(2)};|          states.shape = {host.extent(0), host.extent(1), host.extent(2)};|
