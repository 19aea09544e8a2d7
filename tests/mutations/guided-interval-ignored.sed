# Guidance stays on outside its interval.
# file: src/model/guided.hpp
# kills: guided | guided: D_w = (1 + w) D(y | c) - w D(y) inside the interval*
s|return weight != 0.0 \&\& s >= s_lo \&\& s <= s_hi;|return weight != 0.0;|
