"""TSP-MDF: guided sampling for insertion heuristics through a neural instance modifier
(arXiv 2602.00580; our reconstruction, see README.md)."""
