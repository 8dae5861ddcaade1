"""Layer 1, data: the datasets (files, digests, cache, loaders) and the shifted versions of MNIST.
Imports only helpers.core."""
