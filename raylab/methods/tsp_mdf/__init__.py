"""TSP-MDF: guided sampling for insertion heuristics through a neural instance modifier (in progress:
the compiled heuristics and TSPLIB I/O are here; the modifier, sampler and experiments are not yet)."""
