#include "solver/presets.hpp"

#include <stdexcept>

namespace pfode::solver {

// Facts the presets rely on (read from the tools' sources; paraphrased):
//
// Official DPM-Solver (LuChengTHU/dpm-solver, dpm_solver_pytorch.py, DPM_Solver.sample):
//  - grids: skip_type "logSNR" = uniform in lambda (pfode uniform-lambda), "time_uniform" =
//    linspace(t_T, t_0) (uniform-t), "time_quadratic" = linspace(sqrt t_T, sqrt t_0)^2
//    (quadratic-t); t_T = 1, t_0 = 1/N_train = 1e-3 by default (vp-linear's range).
//  - method "singlestep" with order 3 is DPM-Solver-fast: K = steps // 3 + 1 outer steps with
//    orders [3]*(K-2)+[2,1] / [3]*(K-1)+[1] / [3]*(K-1)+[2] for steps % 3 = 0 / 1 / 2. With
//    logSNR the outer grid is K steps uniform in lambda and the inner points sit at r = 1/3, 2/3
//    (1/2 for order 2) of each step in lambda: pfode's dpm-solver-fast exactly. With the other
//    skip types the outer grid is the `steps`-step grid of the skip type at the cumulative orders,
//    and each step's inner points are get_time_steps(skip_type, s, t, order): uniform in t
//    (time_quadratic: in sqrt t) inside the step, i.e. the `steps`-step grid's points in between;
//    r = their lambda fraction of the step. pfode: dpm-solver-fast[stages=spacing].
//  - method "singlestep_fixed", order 2 or 3: K = steps // order steps of the skip type, inner
//    points placed the same way (pfode: dpm-solver-2/-3[stages=spacing]; with logSNR they are
//    r = 1/2, 1/3, 2/3, stages=lambda). Method "singlestep" with order 2 is the same for even steps.
//  - method "multistep": the first order - 1 steps are lower-order multistep steps (a DDIM first
//    step), and with lower_order_final (default True) the last steps use min(order, steps + 1 -
//    step) only when steps < 10 (pfode lower_order_final=10); multistep coefficients are the
//    "dpmsolver" type (pfode's official coefficients).
//  - denoise_to_zero (default False) replaces x by the data prediction at t_0 (+1 NFE); pfode's
//    final=denoise returns alpha(t_min) D, which differs by the factor alpha(t_min) (1 - 5e-5 on
//    vp-linear) because pfode keeps x in the schedule's scale at t_min.
//  - method "adaptive": DPM-Solver-12/23 with atol = 0.0078, rtol = 0.05 by default (image data in
//    [-1, 1]), see adaptive.hpp.
//  - recommended: DPM-Solver-fast (order 3) for unconditional sampling, multistep DPM-Solver++ order
//    2 with time_uniform for guided sampling.
// Official UniPC (wl-zhao/UniPC, uni_pc.py, UniPC.sample, multistep): warm-up by lower-order UniPC
//  steps (corrector on), lower_order_final applied whatever the number of steps (pfode
//  lower_order_final=on), no corrector on the last step (pfode's convention), skip_type
//  time_uniform, variant bh1 (class default) or bh2.
// k-diffusion (crowsonkb/k-diffusion, sampling.py): get_sigmas_karras(n, sigma_min, sigma_max,
//  rho=7) is n noise levels with sigma^(1/rho) uniform, then sigma = 0 appended. Samplers work on
//  x/alpha with sigma = sigma/alpha (pfode's y and s). Every sampler treats the step to sigma = 0
//  as one first-order step, which is x <- D(x, sigma_min) exactly (Euler in sigma to 0; the
//  exponential step with h = infinity): pfode's final=denoise after the steps to t_min =
//  sigma_min. So with n sigmas: sample_euler spends n NFE (pfode: n - 1 Euler steps in s + denoise),
//  sample_heun 2n - 1 (n - 1 Heun steps in s + denoise), sample_dpmpp_2m n (a DDIM first step, then
//  2M with r = h_last/h, then the denoise), sample_dpmpp_2s_ancestral with eta = 0 2n - 1 (2S with
//  r = 1/2 in lambda + denoise). EDM's Algorithm 1 (NVlabs/edm, S_churn = 0) is the same Heun:
//  num_steps = n noise levels plus 0, Euler on the last interval, NFE 2n - 1.
// diffusers (DPMSolverMultistepScheduler, UniPCMultistepScheduler, recent releases with
//  final_sigmas_type = "zero"): the 1000 discrete DDPM timesteps (beta_schedule "linear" 1e-4 ..
//  0.02 by default, "scaled_linear" 0.00085 .. 0.012 in Stable Diffusion: pfode's ddpm-linear and
//  ddpm-scaled-linear), timestep_spacing "linspace" by default: N integer timesteps
//  round(linspace(0, 999, N + 1))[::-1][:-1], from 999 down to ~999/N (pfode diffusers-linspace
//  with N = steps + 1), sigma = sqrt((1 - alpha_bar_k)/alpha_bar_k) at each, then sigma = 0; the
//  step to 0 is first order (x <- D: pfode's final=denoise, whose state pfode compares with x*(0)
//  under run.denoise_target = zero). use_karras_sigmas: N Karras sigmas (rho 7) from sigma(999) to
//  sigma(0) (pfode karras between t_max and t_min of the discrete schedule), then 0; the network
//  is given the nearest timestep, an exact denoiser the sigma. DPM-Solver++ defaults: order 2,
//  "midpoint" solver_type (the official dpmsolver coefficients), lower order on the final steps
//  only when fewer than 15 (which for order 2 is the step to 0 alone). UniPC defaults: order 2,
//  bh2, corrector at every step but the one to 0, lower_order_final whatever the steps (again only
//  the step to 0 for order 2). diffusers computes the schedule in float32, pfode in double.
const std::vector<Preset>& all_presets() {
  static const std::vector<Preset> table = {
      {"dpm-solver:fast-logsnr", "uniform-lambda", "dpm-solver-fast",
       "official DPM-Solver, singlestep order 3 (DPM-Solver-fast), skip_type logSNR: K = NFE//3+1 steps uniform in "
       "lambda, orders 3..3 then 2/1, spends exactly the NFE; no denoise_to_zero. Exact"},
      {"dpm-solver:2s-time-uniform", "uniform-t", "dpm-solver-2[stages=spacing]",
       "official DPM-Solver singlestep_fixed order 2 (= singlestep for even NFE), time_uniform: NFE//2 steps uniform "
       "in t, the stage at the middle of each step in t (r1 = 0.11-0.55 of a step in lambda on vp-linear at NFE 6-20); no "
       "denoise_to_zero. Exact"},
      {"dpm-solver:3s-time-uniform", "uniform-t", "dpm-solver-3[stages=spacing]",
       "official DPM-Solver singlestep_fixed order 3, time_uniform: NFE//3 steps uniform in t, stages at 1/3 and 2/3 "
       "of each step in t. Exact"},
      {"dpm-solver:fast-time-uniform", "uniform-t", "dpm-solver-fast[stages=spacing]",
       "official DPM-Solver singlestep order 3 (DPM-Solver-fast), time_uniform: the NFE-step uniform-t grid taken "
       "3 (then 2/1) intervals per step, stages on the points in between; spends exactly the NFE. Exact"},
      {"dpm-solver:2s-time-quadratic", "quadratic-t", "dpm-solver-2[stages=spacing]",
       "official DPM-Solver singlestep_fixed order 2, time_quadratic: as 2s-time-uniform in sqrt(t). Exact"},
      {"dpm-solver:3s-time-quadratic", "quadratic-t", "dpm-solver-3[stages=spacing]",
       "official DPM-Solver singlestep_fixed order 3, time_quadratic: as 3s-time-uniform in sqrt(t). Exact"},
      {"dpm-solver:fast-time-quadratic", "quadratic-t", "dpm-solver-fast[stages=spacing]",
       "official DPM-Solver singlestep order 3, time_quadratic: as fast-time-uniform in sqrt(t). Exact"},
      {"dpm-solver:2m-time-uniform", "uniform-t", "dpm-solver++2m[warmup=multistep,lower_order_final=10]",
       "official DPM-Solver++ multistep order 2, time_uniform (recommended for guided sampling): DDIM first step, "
       "first-order last step only when steps < 10; no denoise_to_zero. Exact"},
      {"dpm-solver:2m-logsnr", "uniform-lambda", "dpm-solver++2m[warmup=multistep,lower_order_final=10]",
       "official DPM-Solver++ multistep order 2, skip_type logSNR; as 2m-time-uniform otherwise. Exact"},
      {"dpm-solver:3m-time-uniform", "uniform-t", "dpm-solver++3m[warmup=multistep,lower_order_final=10]",
       "official DPM-Solver++ multistep order 3 (dpmsolver coefficients), time_uniform: orders 1, 2, then 3, "
       "lowered to 2, 1 on the last steps only when steps < 10. Exact"},
      {"dpm-solver:2m-quadratic", "quadratic-t", "dpm-solver++2m[warmup=multistep,lower_order_final=10]",
       "official DPM-Solver++ multistep order 2, time_quadratic. Exact"},
      {"dpm-solver:23-adaptive", "uniform-t", "dpm-solver-23[atol=0.0078,rtol=0.05]",
       "official DPM-Solver adaptive (method adaptive, order 3) with its default atol 0.0078, rtol 0.05 (image data "
       "in [-1, 1]); NFE as spent, the budget is ignored. Approximate: pfode controls each sample's steps, "
       "the official code one step size for the batch (max of E over samples); also the t_err stop (adaptive.hpp)"},
      {"unipc:bh1-3", "uniform-t", "unipc-3[variant=bh1,warmup=multistep,lower_order_final=on]",
       "official UniPC multistep order 3, bh1, time_uniform: lower-order UniPC warm-up, orders lowered on the last "
       "steps whatever their number, no corrector on the last step. Exact"},
      {"unipc:bh2-3", "uniform-t", "unipc-3[variant=bh2,warmup=multistep,lower_order_final=on]",
       "official UniPC multistep order 3 with B(h) = e^h - 1 (bh2); as unipc:bh1-3 otherwise. Exact"},
      {"unipc:bh2-2", "uniform-t", "unipc-2[variant=bh2,warmup=multistep,lower_order_final=on]",
       "official UniPC multistep order 2, bh2, time_uniform, lower_order_final. Exact"},
      {"k-diffusion:euler", "karras[rho=7]", "euler[variable=s,final=denoise]",
       "k-diffusion sample_euler on get_sigmas_karras (rho 7, sigma = 0 appended): Euler in sigma, the step to 0 "
       "is x <- D; NFE = number of sigmas n (budget n: n - 1 steps + denoise). Exact"},
      {"k-diffusion:heun", "karras[rho=7]", "heun[variable=s,final=denoise]",
       "k-diffusion sample_heun = EDM Algorithm 1 (S_churn 0) on the Karras grid: Heun in sigma, Euler (x <- D) on "
       "the step to 0; NFE = 2n - 1 for n sigmas (budget 2n - 1: n - 1 steps + denoise). Exact"},
      {"k-diffusion:dpm++2m", "karras[rho=7]", "dpm-solver++2m[warmup=multistep,final=denoise]",
       "k-diffusion sample_dpmpp_2m on the Karras grid: DDIM first step, 2M with r = h_last/h, first-order step to "
       "0 (x <- D); no other lowering; NFE = n. Exact"},
      {"k-diffusion:dpm++2s", "karras[rho=7]", "dpm-solver++2s[final=denoise]",
       "k-diffusion sample_dpmpp_2s_ancestral with eta = 0 (deterministic): DPM-Solver++(2S), r = 1/2 in lambda, "
       "Euler (x <- D) on the step to 0; NFE = 2n - 1. Exact"},
      {"diffusers:dpm++2m", "diffusers-linspace", "dpm-solver++2m[warmup=multistep,final=denoise]",
       "diffusers DPMSolverMultistepScheduler defaults (order 2, dpmsolver++, midpoint, linspace, final sigma 0): "
       "NFE n = n timesteps, first-order first step and step to 0. Exact on ddpm-linear (the default betas) and "
       "ddpm-scaled-linear (Stable Diffusion's)"},
      {"diffusers:dpm++2m-karras", "karras[rho=7]", "dpm-solver++2m[warmup=multistep,final=denoise]",
       "diffusers DPMSolverMultistepScheduler with use_karras_sigmas: n Karras sigmas from sigma(999) to sigma(0), "
       "then 0. Exact on ddpm-linear and ddpm-scaled-linear (the model evaluated at the Karras sigma, where "
       "diffusers hands a network the nearest timestep)"},
      {"diffusers:unipc", "diffusers-linspace", "unipc-2[variant=bh2,warmup=multistep,final=denoise]",
       "diffusers UniPCMultistepScheduler defaults (order 2, bh2, linspace, final sigma 0): corrector at every step "
       "but the step to 0, which is x <- D at the uncorrected state. Exact on ddpm-linear and ddpm-scaled-linear"},
  };
  return table;
}

const Preset& find_preset(const std::string& name) {
  for (const auto& p : all_presets())
    if (p.name == name) return p;
  std::string known;
  for (const auto& p : all_presets()) known += (known.empty() ? "" : ", ") + p.name;
  throw std::invalid_argument("unknown preset '" + name + "' (known: " + known + ")");
}

}  // namespace pfode::solver
