// A learned denoiser: an MLP with EDM preconditioning (Karras et al. 2022, Table 1), trained on an
// exact mixture by training/train_denoiser.py and read from its file by model/network_file.hpp:
//
//   D(y, s) = c_skip y + c_out F(c_in y, e(s)),   c_skip = sd^2/(s^2 + sd^2),
//   c_out = s sd/sqrt(s^2 + sd^2),  c_in = 1/sqrt(s^2 + sd^2),  c_noise = log(s)/4,
//   e(s) = [cos(2 pi f_i c_noise) (i < F), sin(2 pi f_i c_noise) (i < F)]   (Fourier features),
//
// F a stack of Linear layers (h <- W h + b) with SiLU, h sigmoid(h), between them; sd = sigma_data.
// The embedding enters only the first layer, so its contribution b_0 + W_0[:, dim:] e(s) is a term
// of s, computed once per pack of samples that share s: a sample then costs its first layer's
// dim inputs, not dim + 2F. Samples with their own s (adaptive steps) fold it as a matrix product
// over the pack, in the same summation order.
// Packs (CPUs): each layer is a matrix product of the weights with the pack's W samples, a block
// of outputs at a time so that every weight read serves the pack and every input read the block,
// vectorised over the pack's samples (SiLU through exp_nonpositive). Teams (GPUs): each
// thread evaluates its sample with its vector lanes over a layer's outputs.
// Every output is the sum over its inputs in input order, started from its bias, in every layout,
// so a sample's numbers do not depend on W, on whether s is shared, or on the layout.
// A device model kind (model/concept.hpp); it keeps no per-sample data.
#pragma once

#include "compat/kokkos_compat.hpp"
#include "model/pack.hpp"
#include "model/vector_math.hpp"

// Loops unrolled before vectorisation: GCC 12 otherwise vectorises dense's loop over inputs, with a
// permutation per multiply-add, ~7x slower.
#if defined(__GNUC__) && !defined(__clang__) && !defined(__CUDA_ARCH__)
#define PFODE_UNROLLED _Pragma("GCC unroll 16")
#else
#define PFODE_UNROLLED
#endif

namespace pfode::model {

struct Network {
  static constexpr int max_layers = 16;
  // Layer l's weights transposed (in x out, row-major: a layer's outputs contiguous for each input)
  // then its bias, in one array; the Fourier frequencies.
  Kokkos::View<const double*> parameters;
  Kokkos::View<const double*> frequencies;
  int layers = 0;
  int inputs[max_layers] = {};   // layer 0: dim + 2F; layer l > 0: layer l - 1's outputs
  int outputs[max_layers] = {};  // the last: dim
  long weight_at[max_layers] = {}, bias_at[max_layers] = {};
  int dim = 0;
  int features = 0;  // 2F
  int widest = 0;    // the most outputs of a hidden layer
  double sigma_data = 1.0;

  KOKKOS_INLINE_FUNCTION int dimension() const { return dim; }
  // Terms of s: the features, then the first layer's bias with the embedding folded in.
  KOKKOS_INLINE_FUNCTION int s_scratch_size() const { return features + outputs[0]; }
  // Per sample: the hidden activations, read from one half and written to the other.
  KOKKOS_INLINE_FUNCTION int value_scratch_size() const { return 2 * widest; }
  KOKKOS_INLINE_FUNCTION int team_scratch_size() const { return s_scratch_size(); }
  KOKKOS_INLINE_FUNCTION int thread_scratch_size() const { return 2 * widest + s_scratch_size(); }

  KOKKOS_FORCEINLINE_FUNCTION double weight(int l, int i, int k) const {
    return parameters(weight_at[l] + static_cast<long>(k) * outputs[l] + i);
  }
  KOKKOS_FORCEINLINE_FUNCTION double bias(int l, int i) const { return parameters(bias_at[l] + i); }

  // x sigmoid(x), with e = e^-|x| in (0, 1] so nothing overflows: x/(1 + e) for x >= 0, x e/(1 + e)
  // below; a select, not a branch, so loops over samples vectorise.
  KOKKOS_FORCEINLINE_FUNCTION static double silu(double x) {
    const double e = exp_nonpositive(-math::fabs(x));
    return (x >= 0 ? x : x * e) / (1.0 + e);
  }

  // The preconditioning at one s.
  struct Scaling {
    double skip, out, in;
  };
  KOKKOS_INLINE_FUNCTION Scaling scaling(double s) const {
    const double sd2 = sigma_data * sigma_data, norm2 = s * s + sd2;
    const double in = 1.0 / math::sqrt(norm2);
    return {sd2 / norm2, s * sigma_data * in, in};
  }

  // feature(i) <- e_i(s), and bias(i) <- b_0(i) + sum_f W_0(i, dim + f) e_f(s) for the first layer's
  // outputs i; the two are index ranges of one scratch row, both doubles (a shared s) or both a
  // sample's entries of its packs.
  template <class Feature, class Bias>
  KOKKOS_INLINE_FUNCTION void noise_terms(double s, const Feature& feature, const Bias& bias_of) const {
    embedding(s, feature);
    for (int i = 0; i < outputs[0]; ++i) bias_of(i) = first_bias(i, feature);
  }
  template <class Feature>
  KOKKOS_INLINE_FUNCTION void embedding(double s, const Feature& feature) const {
    const int half = features / 2;
    const double c_noise = 0.25 * math::log(s);
    for (int f = 0; f < half; ++f) {
      const double angle = 2.0 * math::pi * frequencies(f) * c_noise;
      feature(f) = math::cos(angle);
      feature(half + f) = math::sin(angle);
    }
  }
  template <class Feature>
  KOKKOS_INLINE_FUNCTION double first_bias(int i, const Feature& feature) const {
    double acc = bias(0, i);
    for (int f = 0; f < features; ++f) acc = math::fma(weight(0, i, dim + f), feature(f), acc);
    return acc;
  }

  template <int W, class Samples, class In, class S, class Out, class Scratch, class Values>
  KOKKOS_INLINE_FUNCTION void denoise(const Samples&, const In& y, const S& s, const Out& out, const Scratch& scratch,
                                      const Values& values) const {
    double skip[W], c_out[W], c_in[W];
    if constexpr (std::is_same_v<S, double>) {
      noise_terms(s, scratch, [&](int i) -> double& { return scratch(features + i); });
      const Scaling c = scaling(s);
      for (int w = 0; w < W; ++w) skip[w] = c.skip, c_out[w] = c.out, c_in[w] = c.in;
    } else {  // each sample's own s: its features in its entries of the scratch packs, then
              // the first layer's bias with them folded in, over the pack (first_bias's order)
      for (int w = 0; w < W; ++w) {
        embedding(s[w], [&](int f) -> double& { return scratch(f)[w]; });
        const Scaling c = scaling(s[w]);
        skip[w] = c.skip, c_out[w] = c.out, c_in[w] = c.in;
      }
      dense<W>(
          0, dim, features, [&](int f, double (&x)[W]) { for (int w = 0; w < W; ++w) x[w] = scratch(f)[w]; },
          [&](int i, int) { return bias(0, i); },
          [&](int i, const double (&b)[W]) { for (int w = 0; w < W; ++w) scratch(features + i)[w] = b[w]; });
    }
    const auto first_bias_of = [&](int i, int w) { return of_sample(scratch(features + i), w); };
    const auto hidden = [&](int half, int i) -> Pack<W>& { return values(half * widest + i); };

    // Layer 0 on c_in y; the hidden layers on the previous activations.
    dense<W>(
        0, 0, dim, [&](int k, double (&x)[W]) { for (int w = 0; w < W; ++w) x[w] = c_in[w] * y(k)[w]; }, first_bias_of,
        [&](int i, const double (&h)[W]) {
          Pack<W>& to = hidden(0, i);
          for (int w = 0; w < W; ++w) to[w] = silu(h[w]);
        });
    for (int l = 1; l < layers; ++l) {
      const int from = (l - 1) % 2;
      const auto input = [&](int k, double (&x)[W]) {
        const Pack<W>& h = hidden(from, k);
        for (int w = 0; w < W; ++w) x[w] = h[w];
      };
      const auto bias_of = [&](int i, int) { return bias(l, i); };
      if (l + 1 < layers) {
        dense<W>(l, 0, inputs[l], input, bias_of, [&](int i, const double (&h)[W]) {
          Pack<W>& to = hidden(1 - from, i);
          for (int w = 0; w < W; ++w) to[w] = silu(h[w]);
        });
      } else {  // D = c_skip y + c_out F
        dense<W>(l, 0, inputs[l], input, bias_of, [&](int j, const double (&f)[W]) {
          double o[W];
          for (int w = 0; w < W; ++w) o[w] = math::fma(skip[w], y(j)[w], c_out[w] * f[w]);
          for (int w = 0; w < W; ++w) out(j)[w] = o[w];
        });
      }
    }
  }

  // out(i) <- bias_of(i) + sum_k W_l(i, first + k) x_k (k < n_in) of layer l for every sample of the
  // pack, through store(i, values). A block of `block` outputs at a time: for each input k, each of
  // the block's weights times the pack's x_k (an outer product), so the vector lanes run over the
  // pack's samples, a weight read serves the pack, an input read the block, and the block x W
  // accumulators stay in registers (8 x 16 doubles: 16 of AVX-512's 32 vector registers). Each
  // output's sum runs in input order whatever the blocking.
  static constexpr int block = 8;
  template <int W, class Input, class BiasOf, class Store>
  KOKKOS_INLINE_FUNCTION void dense(int l, int first, int n_in, const Input& input, const BiasOf& bias_of,
                                    const Store& store) const {
    const int n_out = outputs[l];
    double x[W];
    int i0 = 0;
    for (; i0 + block <= n_out; i0 += block) {
      double acc[block][W];
      for (int b = 0; b < block; ++b)
        for (int w = 0; w < W; ++w) acc[b][w] = bias_of(i0 + b, w);
      for (int k = 0; k < n_in; ++k) {
        input(k, x);
        PFODE_UNROLLED
        for (int b = 0; b < block; ++b) {
          const double a = weight(l, i0 + b, first + k);
          PFODE_UNROLLED
          for (int w = 0; w < W; ++w) acc[b][w] = math::fma(a, x[w], acc[b][w]);
        }
      }
      for (int b = 0; b < block; ++b) store(i0 + b, acc[b]);
    }
    for (; i0 < n_out; ++i0) {
      double h[W];
      for (int w = 0; w < W; ++w) h[w] = bias_of(i0, w);
      for (int k = 0; k < n_in; ++k) {
        input(k, x);
        const double a = weight(l, i0, first + k);
        PFODE_UNROLLED
        for (int w = 0; w < W; ++w) h[w] = math::fma(a, x[w], h[w]);
      }
      store(i0, h);
    }
  }

  // D(y, s) of the calling thread's sample, a layer's outputs over its vector lanes; the hidden
  // activations in thread scratch. With team_s the team computes the terms of s once, in team
  // scratch, between barriers. A vector-range parallel_for makes its writes visible to the
  // thread's other lanes when it returns (Kokkos synchronises the lanes of a warp there), so a
  // layer reads all of the previous one's outputs.
  template <class Member, class In, class Out, class Scratch>
  KOKKOS_INLINE_FUNCTION void denoise_team(const Member& team, int /*sample*/, const In& y, double s, const Out& out,
                                           bool team_s, const Scratch& team_scratch,
                                           const Scratch& thread_scratch) const {
    const int terms = 2 * widest;
    const auto term = [&](int i) -> double& { return team_s ? team_scratch(i) : thread_scratch(terms + i); };
    if (team_s) {
      team.team_barrier();  // every thread is done with the previous evaluation's terms
      Kokkos::single(Kokkos::PerTeam(team), [&] {
        const int half = features / 2;
        const double c_noise = 0.25 * math::log(s);
        for (int f = 0; f < half; ++f) {
          const double angle = 2.0 * math::pi * frequencies(f) * c_noise;
          term(f) = math::cos(angle);
          term(half + f) = math::sin(angle);
        }
      });
      team.team_barrier();
      Kokkos::parallel_for(Kokkos::TeamVectorRange(team, outputs[0]),
                           [&](int i) { term(features + i) = first_bias(i, term); });
      team.team_barrier();
    } else {
      Kokkos::single(Kokkos::PerThread(team), [&] {
        noise_terms(s, term, [&](int i) -> double& { return term(features + i); });
      });
      // The lanes read what the thread's single wrote: a vector range over nothing synchronises them.
      Kokkos::parallel_for(Kokkos::ThreadVectorRange(team, 0), [&](int) {});
    }
    const Scaling c = scaling(s);
    const auto hidden = [&](int half, int i) -> double& { return thread_scratch(half * widest + i); };
    Kokkos::parallel_for(Kokkos::ThreadVectorRange(team, outputs[0]), [&](int i) {
      double acc = term(features + i);
      for (int k = 0; k < dim; ++k) acc = math::fma(weight(0, i, k), c.in * y(k), acc);
      hidden(0, i) = silu(acc);
    });
    for (int l = 1; l < layers; ++l) {
      const int from = (l - 1) % 2;
      const bool last = l + 1 == layers;
      Kokkos::parallel_for(Kokkos::ThreadVectorRange(team, outputs[l]), [&](int i) {
        double acc = bias(l, i);
        for (int k = 0; k < inputs[l]; ++k) acc = math::fma(weight(l, i, k), hidden(from, k), acc);
        if (last)
          out(i) = math::fma(c.skip, y(i), c.out * acc);
        else
          hidden(1 - from, i) = silu(acc);
      });
    }
  }

  KOKKOS_FORCEINLINE_FUNCTION static double of_sample(double x, int) { return x; }
  template <int W>
  KOKKOS_FORCEINLINE_FUNCTION static double of_sample(const Pack<W>& x, int w) {
    return x[w];
  }
};

}  // namespace pfode::model
