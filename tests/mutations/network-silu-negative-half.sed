# The network's SiLU loses the sigmoid's factor for negative inputs (x instead of x e^x / (1 + e^x)).
# file: src/model/network.hpp
# kills: network | network: the forward pass equals PyTorch's*
s|return (x >= 0 ? x : x \* e) / (1.0 + e);|return (x >= 0 ? x : x) / (1.0 + e);|
