"""Small shared inputs for the autodp unit tests."""

import pytest

from raylab.methods.autodp.config import AutoDPConfig, DataConfig
from raylab.methods.autodp.data import Dataset, Sample, fact_qa


@pytest.fixture(scope="session")
def facts() -> Dataset:
    """60 facts, no noise."""
    return fact_qa(60, seed=0)


@pytest.fixture
def cfg() -> AutoDPConfig:
    return AutoDPConfig(replicates=1, data=DataConfig(max_items=60))


def sample(i: int, question: str, answer: str, bad: str = "", fact: int = -1) -> Sample:
    return Sample(f"s{i}", question, answer, bad, fact)
