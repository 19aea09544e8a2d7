# Processes without shared memory skip the broadcast of the other shares' states, as if they shared them.
# file: src/reference/reference.cpp
# kills: reference | reference: solved in shares by several processes*
s|    if (!shared) {  // the share's states in one message, sample by sample|    if (false) {  // the share's states in one message, sample by sample|
