"""The README's Python examples run and say what they claim."""
import pathlib
import re

import pytest

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_has_examples():
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_block_runs(index, capsys):
    namespace: dict = {}
    exec(compile(BLOCKS[index], f"README.md block {index}", "exec"), namespace)  # our own documentation
    if "result" in namespace:
        assert int(namespace["result"].bounded.sum()) == 345674
        assert capsys.readouterr().out.strip() == "345674"
    if "sweep" in namespace:
        assert namespace["sweep"].recorded.shape == (2000, 100, 1)
    if "henon" in namespace and "ring" in namespace:
        assert abs(namespace["henon"].exponents[0] - 0.4192) < 0.005
        assert namespace["diagram"].period[0] == 1 and namespace["diagram"].period[-1] == 2
        assert sum(1 for a in namespace["ring"].attracting() if a.period == 1) == 2
    if "flips" in namespace:
        assert {b.value for b in namespace["flips"] if b.fixed_point.coordinates in ((1,), (-1,))} == {1}
        assert "passed [numeric]" in capsys.readouterr().out
    if "mle" in namespace and "net" in namespace:  # training trajectories: both exponents about 0.15 per step
        d, mle = namespace["d"], namespace["mle"]
        assert 0.1 < d.exponent[0] < 0.2 and abs(mle.maximal - d.exponent[0]) < 0.02
