// Workspace slots of a lane (lane/) that every solver driver uses; a method's own slots start at
// first_method_slot.
#pragma once

namespace pfode::solver {

inline constexpr int state_slot = 0;    // x at the current grid point (schedule scale)
inline constexpr int scratch_slot = 1;  // stage inputs, exact states while priming history
inline constexpr int first_method_slot = 2;

}  // namespace pfode::solver
