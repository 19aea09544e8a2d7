# Processes without shared memory skip the broadcast of the other shares' states, as if they shared them.
# file: src/reference/reference.cpp
# kills: reference | reference: solved in shares by several processes*
s|    const Role role = !shared ? (root == split.part ? Role::send : Role::receive)|    const Role role = !shared ? Role::none|
