// The diagonal Gaussian mixture (model/mixture.hpp) compiled against every solver and the reference.
#include "kinds/instantiate.hpp"
#include "model/mixture.hpp"

PFODE_INSTANTIATE_MODEL_KIND(pfode::model::DiagonalMixture)
