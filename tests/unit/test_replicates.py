"""Replicate batches: runs cut into contiguous, near-equal groups, one per item the mapper runs."""

import pytest

from raylab.context import RunContext, SerialMapper
from raylab.replicates import replicate_batches


@pytest.mark.parametrize("runs, batches", [(7, 2), (6, 4), (3, 5), (1, 1), (0, 3), (12, 12)])
def test_batches_keep_the_order_and_differ_in_size_by_at_most_one(runs, batches):
    groups = replicate_batches(list(range(runs)), batches)
    assert [run for group in groups for run in group] == list(range(runs))
    assert len(groups) == min(runs, batches)
    assert all(groups) and max(map(len, groups), default=0) - min(map(len, groups), default=0) <= 1
    assert [len(g) for g in groups] == sorted((len(g) for g in groups), reverse=True)


def test_no_batches_is_an_error():
    with pytest.raises(ValueError, match="replicate batches must be >= 1, not 0"):
        replicate_batches([1, 2], 0)


def test_the_serial_path_trains_one_batch(tmp_path):
    assert SerialMapper().slots() == 1
    ctx = RunContext.create("x/y", 0, tmp_path, mapper=SerialMapper(progress=False))
    assert ctx.replicate_batches(["a", "b", "c"]) == [("a", "b", "c")]
