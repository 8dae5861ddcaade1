"""Layer 1, stats: metrics, statistical inference, the verdict rules and the paper's claims.
Pure numpy/SciPy; imports only helpers.core."""
