from raylab.context import SerialMapper


def serial_map(fn, items, shared):
    """The `map_fn` the TSP samplers take, on the serial reference path."""
    return SerialMapper(progress=False).map(fn, items, name="tsp", shared=shared)
