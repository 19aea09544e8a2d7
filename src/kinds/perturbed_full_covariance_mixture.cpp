// The perturbed full-covariance mixture (model/perturbed.hpp) compiled against every solver and the
// reference.
#include "kinds/instantiate.hpp"
#include "model/full_covariance.hpp"
#include "model/perturbed.hpp"

PFODE_INSTANTIATE_MODEL_KIND(pfode::model::Perturbed<pfode::model::FullCovarianceMixture>)
