"""How the engine runs numpy: BLAS threads as torch's (``blas``), freed memory kept for reuse
(``malloc``), big unary ops split over threads (``parallel``), numpy's floating-point
warnings off (``quiet``).  Importing the package applies the thread count and the allocator
setting."""

from . import blas, malloc, parallel, quiet

__all__ = ["blas", "malloc", "parallel", "quiet"]
