"""PAR: proximal action replacement for BC-regularised actor-critic offline RL (arXiv 2602.07441)."""
