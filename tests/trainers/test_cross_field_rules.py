"""Rules across hyperparameters, declared beside the fields and refused before training."""
import pytest

from trainers.core import TrainerError
from trainers.families import check_hyperparameters


def test_fai_cls_refuses_a_warmup_as_long_as_the_run():
    with pytest.raises(TrainerError, match="warmup_epochs 20 must be less than epochs 5"):
        check_hyperparameters("fai_cls", {"warmup_epochs": 20, "epochs": 5})
    assert check_hyperparameters("fai_cls", {"warmup_epochs": 4, "epochs": 5}) is None
