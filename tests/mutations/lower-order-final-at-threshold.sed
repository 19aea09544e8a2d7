# lower_order_final=N also lowers the last steps at exactly N steps (steps <= N instead of steps < N).
# file: src/solver/coefficients.hpp
# kills: solvers | lower_order_final lowers the last steps' orders only below its step threshold
s|if (steps < lower_order_final_below && steps - i < q)|if (steps <= lower_order_final_below \&\& steps - i < q)|
