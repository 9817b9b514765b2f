"""S2O: second-order statistics of weights for adversarial training (Jin et al., CVPR 2022 / TPAMI 2025)."""
