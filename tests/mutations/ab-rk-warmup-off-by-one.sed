# Adams-Bashforth with warmup=rk takes one Runge-Kutta warm-up step too few (p - 2 instead of p - 1).
# file: src/solver/adams_bashforth.hpp
# kills: solvers | NFE is counted by the model: every sample spends exactly the stated cost
s|{ return rk_warmup && i < orders\.order - 1; }|{ return rk_warmup \&\& i < orders.order - 2; }|
