# A pack takes its first sample's class for every sample (the per-sample class is lost in packs).
# file: src/model/guided.hpp
# kills: guided | guided: in packs and teams that mix classes each sample follows its own class
s|for (int w = 0; w < W; ++w) cls\[w\] = class_of(samples(w));|for (int w = 0; w < W; ++w) cls[w] = class_of(samples(0));|
