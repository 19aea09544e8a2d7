# The generator's counter adds sample and coordinate: sample p, coordinate j draws what sample p + 1, coordinate j - 1 draws.
# file: src/model/counter_rng.hpp
# kills: model | counter generator: no two (sample*
s|{{sample, coord, stream, 0u}}|{{sample + coord, 0u, stream, 0u}}|
