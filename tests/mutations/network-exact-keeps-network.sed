# A network's exact model keeps the network: its error split compares the network with itself.
# file: src/model/model_spec.cpp
# kills: network | network: its error splits against the exact mixture it learned
s|    m.network = nullptr;|    m.network = network;|
