# The team kernel writes a hidden layer's outputs over its inputs (one scratch half instead of two).
# file: src/model/network.hpp
# kills: network | network: teams give the packs' numbers
s|          hidden(1 - from, i) = silu(acc);|          hidden(from, i) = silu(acc);|
