"""Console progress: bounded line rate without a terminal, step / total and an ETA."""

import io

from raylab.progress import ConsoleProgress


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_without_a_terminal_lines_come_at_a_bounded_rate():
    stream, clock = io.StringIO(), FakeClock()
    progress = ConsoleProgress("par/x", stream=stream, every_s=10.0, clock=clock)
    progress.expect_steps(1000)
    for step in range(1, 1001):  # 1000 steps over 50 simulated seconds
        clock.now = step * 0.05
        progress({"eval/norm_return": step / 10, "train/loss": 1.0}, step)
    lines = stream.getvalue().splitlines()
    # one line per 10 s at most, plus the final step: 50 s -> at most 5 + 1 lines
    assert 5 <= len(lines) <= 6
    assert lines[0].startswith("par/x: step 1/1000 (0%), eta ")
    assert lines[-1].startswith("par/x: step 1000/1000 (100%)") and "eval/norm_return=100" in lines[-1]


def test_steps_without_a_total_still_report():
    stream = io.StringIO()
    progress = ConsoleProgress("m/e", stream=stream, every_s=0.0, clock=FakeClock())
    progress({"train/x": 2.0}, 7)
    progress({"train/y": 1.0}, None)  # rows without a step only update the metrics shown
    assert stream.getvalue() == "m/e: step 7, 0m00s elapsed | train/x=2\n"
