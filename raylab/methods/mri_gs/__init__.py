"""Zero-shot MRI super-resolution with physics-driven 3-D Gaussians (Liu et al., arXiv 2603.09621)."""
