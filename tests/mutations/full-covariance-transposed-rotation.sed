# The full-covariance denoiser rotates into the eigenbasis with U_k instead of U_k^T (invisible under identity rotations).
# file: src/model/full_covariance.hpp
# kills: full_covariance | full covariance: the reference follows the Gaussian's closed-form flow to 3e-11
/void rotate_in/,/^  }/ s/const double u = rotations(k, i, j);/const double u = rotations(k, j, i);/
