# The closed-form Gaussian flow to many times reads the factors of the time before (k - 1).
# file: src/model/model_spec.cpp
# kills: full_covariance | full covariance: the reference follows*
s|const double\* scale = scale_.data() + static_cast<size_t>(k) \* d;|const double* scale = scale_.data() + static_cast<size_t>(k > 0 ? k - 1 : 0) * d;|
s|const double\* shift = shift_.data() + static_cast<size_t>(k) \* d;|const double* shift = shift_.data() + static_cast<size_t>(k > 0 ? k - 1 : 0) * d;|
