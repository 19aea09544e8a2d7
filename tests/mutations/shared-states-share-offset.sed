# A share of a time-major reference starts `first` doubles into each time's block instead of `first` samples.
# file: src/reference/states.hpp
# kills: reference | reference: processes that share memory*
s|  return States(all.data() + (time_major_states ? static_cast<size_t>(first) \* dim : static_cast<size_t>(first)),|  return States(all.data() + static_cast<size_t>(first),|
