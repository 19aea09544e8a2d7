# Writes a small sweep (two models, two schedules, three solvers, eight budgets) to $1 with output $2.
cat > "$1" <<INI
[run]
out = $2
samples = 48
seeds = 0 1
[sweep]
models = g m
schedules = vp-linear edm
spacings = uniform-lambda
solvers = euler heun rk4
nfe = 8 16 32 64 128 256 512 1024
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
