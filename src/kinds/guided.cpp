// Classifier-free guidance on a class-conditional mixture (model/guided.hpp) compiled against every
// solver and the reference.
#include "kinds/instantiate.hpp"
#include "model/guided.hpp"

PFODE_INSTANTIATE_MODEL_KIND(pfode::model::Guided)
