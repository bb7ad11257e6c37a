"""Encoder tests run on one torch thread with small clips."""

import pytest
import torch
from encoder_fixtures import synthetic_dataset

from v2p.encoders.dataset import FrameDataset

torch.set_num_threads(1)


@pytest.fixture(scope="session")
def synthetic() -> FrameDataset:
    return synthetic_dataset()
