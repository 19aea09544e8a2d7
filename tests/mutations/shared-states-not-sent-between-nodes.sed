# With shared memory on several nodes, a node's first rank sends its node's shares but never writes the other nodes' into its window.
# file: src/reference/reference.cpp
# kills: reference | reference: processes of two nodes*
s|      if (role == Role::receive) each(|      if (false) each(|
