# diffusers-linspace truncates the linspace timesteps instead of rounding them as numpy's round does.
# file: src/spacing/spacing.cpp
# kills: discrete_schedules | diffusers timestep spacings: the timesteps set_timesteps picks*
s|k\.push_back(std::lrint(i == count ? train - 1\.0 : i \* step));|k.push_back(static_cast<long>(i == count ? train - 1.0 : i * step));|
