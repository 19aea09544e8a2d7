# The weak error's exact law drops a full-covariance mixture's rotations (diagonal covariances).
# file: src/metrics/weak_error.cpp
# kills: weak_error | weak_error: a rotated mixture's law has the rotated covariances
s|        if (spec.full_covariance()) {|        if (false) {|
