"""Label-noise SGD and SAM on two-layer linear networks (Zhang et al., arXiv 2603.10397)."""
