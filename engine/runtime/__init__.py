"""How the engine runs numpy: BLAS threads, memory reuse, parallel unary ops."""
