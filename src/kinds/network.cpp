// The learned denoiser (model/network.hpp) compiled against every solver and the reference.
#include "kinds/instantiate.hpp"
#include "model/network.hpp"

PFODE_INSTANTIATE_MODEL_KIND(pfode::model::Network)
