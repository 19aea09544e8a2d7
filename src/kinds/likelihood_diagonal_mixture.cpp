// The likelihood's augmented ODE on the diagonal Gaussian mixture (likelihood/flow.hpp) compiled
// against every solver and the reference, so that any registered solver integrates it.
#include "kinds/instantiate.hpp"
#include "likelihood/flow.hpp"
#include "model/mixture.hpp"

PFODE_INSTANTIATE_MODEL_KIND(pfode::likelihood::LikelihoodFlow<pfode::model::DiagonalMixture>)
