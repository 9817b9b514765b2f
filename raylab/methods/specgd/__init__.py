"""SpecGD / Muon vs GD on anisotropic phase retrieval (Braun et al., arXiv 2601.22652)."""
