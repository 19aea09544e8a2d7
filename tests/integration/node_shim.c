/* LD_PRELOAD library for the MPI test: ranks on one machine that MPI reports on several nodes.
 *   PFODE_FAKE_NODES=N  MPI_Comm_split_type(..., MPI_COMM_TYPE_SHARED, ...) puts rank r of the
 *                       communicator on node r % N (interleaved, as `mpirun --map-by node` places
 *                       ranks), so the code paths between nodes run on one machine. The shared
 *                       memory of each such node is real: its ranks are on this machine.
 * Without the variable every call goes through unchanged (MPI's profiling interface, PMPI_). */
#include <mpi.h>
#include <stdlib.h>

int MPI_Comm_split_type(MPI_Comm comm, int split_type, int key, MPI_Info info, MPI_Comm* newcomm) {
  const char* nodes = getenv("PFODE_FAKE_NODES");
  if (!nodes || split_type != MPI_COMM_TYPE_SHARED) return PMPI_Comm_split_type(comm, split_type, key, info, newcomm);
  int rank = 0;
  PMPI_Comm_rank(comm, &rank);
  return PMPI_Comm_split(comm, rank % atoi(nodes), key, newcomm);
}
