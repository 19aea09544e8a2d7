// The full-covariance Gaussian mixture (model/full_covariance.hpp) compiled against every solver and
// the reference.
#include "kinds/instantiate.hpp"
#include "model/full_covariance.hpp"

PFODE_INSTANTIATE_MODEL_KIND(pfode::model::FullCovarianceMixture)
