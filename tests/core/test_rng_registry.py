import subprocess
import sys

import pytest

from lcgen.errors import ParamError, UnknownNameError
from lcgen.params import build_params
from lcgen.registry import Registry, families
from lcgen.rng import derive, derive_seed


def test_derive_is_stable_across_processes_and_hash_seeds():
    code = "from lcgen.rng import derive_seed; print(derive_seed(7, 'needle-threads', 'threads', 1000, 50.0, 0))"
    outs = {
        subprocess.run([sys.executable, "-c", code], env={"PYTHONHASHSEED": h, "PATH": ""}, capture_output=True,
                       text=True, check=True).stdout
        for h in ("0", "1", "random")
    }
    assert outs == {f"{derive_seed(7, 'needle-threads', 'threads', 1000, 50.0, 0)}\n"}
    assert derive(1, "a").random() == derive(1, "a").random()
    assert derive(1, "a").random() != derive(2, "a").random()


def test_registry_rejects_duplicates_and_suggests():
    reg: Registry[int] = Registry("thing")
    reg.add("alpha", 1)
    with pytest.raises(ValueError):
        reg.add("alpha", 2)
    with pytest.raises(UnknownNameError, match="did you mean 'needle-threads'"):
        families.get("needle-thread")


def test_params_are_checked_in_one_place():
    spec = families.get("needle-threads")
    with pytest.raises(ParamError, match="--thread-length"):
        build_params(spec.params, {}, {"thread_length": 1})
    with pytest.raises(ParamError, match="--direction"):
        build_params(spec.params, {}, {"direction": "sideways"})
    with pytest.raises(ParamError, match="--marker"):
        build_params(spec.params, {}, {"marker": "a"})
    with pytest.raises(ParamError, match="unknown parameter"):
        build_params(spec.params, {}, {"colour": 3})
    assert build_params(spec.params, spec.variants["multi_threads"], {}).thread_length == 3
    assert build_params(spec.params, spec.variants["multi_threads"], {"thread_length": 7}).thread_length == 7
