"""Fixtures of the checker's tests."""
import pytest

from creditlib.exercises.checker.worker import judged_in_process as _judged_in_process


@pytest.fixture
def judged_in_process():
    """Judge every check of the test in the test's process (the same reading and deciding code, without the judge
    process, the forked worker, the confined child and its seccomp filter): for tests of what the checker
    decides, not of how it is isolated."""
    with _judged_in_process():
        yield


@pytest.fixture(scope="session", autouse=True)
def _warm_torch_func():
    """The first torch.func transform of a process costs 2–3 s. A forked worker inherits the parent's state, and in
    a notebook earlier cells have already used creditlib.influence; warm this process the same way, so that on a
    loaded machine the cold start of the first function check (nb01.4's reference runs both as the answer and as
    the oracle) cannot push it past its time limit."""
    import torch

    from creditlib.influence import function_hvp
    function_hvp(lambda t: (t ** 3).sum(), torch.ones(2), torch.ones(2))


@pytest.fixture(scope="session", autouse=True)
def _judge_started_early():
    """Start a judge process as the session starts, as importing creditlib.exercises does in a Jupyter kernel, so
    that its start (seconds) overlaps the tests that judge in the test's process."""
    from creditlib.exercises.checker.judge_process import start_in_background
    start_in_background()
