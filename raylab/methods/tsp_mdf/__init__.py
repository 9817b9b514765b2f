"""TSP-MDF: guided sampling for insertion heuristics through a neural instance modifier.

In progress (issue #3): the compiled heuristics (`heuristics.py`), TSPLIB I/O (`tsplib.py`) and
best-of-K shift sampling (`sampling.py`) exist and are tested; the modifier, its training and the
registered experiments do not yet.
"""
