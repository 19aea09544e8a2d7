# Writes a small sweep to $1 with output $2: two models, two schedules, eight budgets, and solvers
# of every kind that goes through checkpoints and ranks -- Runge-Kutta, multistep with warm-up and
# corrector, adaptive (NaN LTE, per-sample NFE), a preset with its own spacing, and stochastic
# samplers (strong error on one Brownian path; weak errors of every cell).
cat > "$1" <<INI
[run]
out = $2
samples = 48
seeds = 0 1
sde_refinement = 4
weak_samples = 128
mmd_block = 64
[sweep]
models = g m
schedules = vp-linear edm
spacings = uniform-lambda
[plan.ode]
solvers = euler heun rk4 dpm-solver++2m unipc-2 dopri5
presets = k-diffusion:heun
nfe = 8 16 32 64 128 256 512 1024
[plan.sde]
solvers = euler-maruyama dpm++2m-sde edm-stochastic pc
nfe = 8 16
[model.g]
kind = gaussian
dim = 3
means = 0 1 -1
stds = 0.5 0.4 0.3
[model.m]
kind = random-mixture
dim = 8
components = 4
seed = 3
INI
