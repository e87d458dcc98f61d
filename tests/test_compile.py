"""Kernel compilation: the on-disk cache, concurrent builds, missing compilers, bad code."""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import sympy as sp

import dsanalyze as ds
from dsanalyze.numeric import compile as compile_module
from dsanalyze.numeric.codegen import generate_source
from dsanalyze.numeric.compile import compiler_command


def fresh_system(tag: float) -> ds.Map:
    """A map whose generated source nobody has compiled yet in this process."""
    return ds.Map("x y", [f"1 - a*x**2 + y + {tag}", "b*x"], name=f"henon shifted by {tag}")


def shared_objects(directory):
    return sorted(p for p in os.listdir(directory) if p.startswith("dsk_"))


def test_cache_dir_follows_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("DSANALYZE_CACHE", str(tmp_path / "kernels"))
    assert compile_module.cache_dir() == tmp_path / "kernels"


def test_second_compile_of_same_system_costs_no_build(tmp_path, monkeypatch):
    monkeypatch.setenv("DSANALYZE_CACHE", str(tmp_path))
    builds = []
    real_build = compile_module._build
    monkeypatch.setattr(compile_module, "_build", lambda *a: (builds.append(a), real_build(*a)))
    first = ds.compile_system(fresh_system(0.125))
    assert len(builds) == 1
    assert shared_objects(tmp_path) == [first.path.name]
    # Same equations, a new object: found in this process's table, no build.
    again = ds.compile_system(fresh_system(0.125))
    assert len(builds) == 1 and again.path == first.path
    # A new process finds it on disk: no compiler run (CC points nowhere).
    script = textwrap.dedent(
        """
        import dsanalyze as ds
        F = ds.Map("x y", ["1 - a*x**2 + y + 0.125", "b*x"], name="henon shifted by 0.125")
        print(ds.iterate(F, [[0.0, 0.0]], 1, {"a": 1.4, "b": 0.3}).final.tolist())
        """
    )
    env = dict(os.environ, DSANALYZE_CACHE=str(tmp_path))
    before = os.path.getmtime(first.path)
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[[1.125, 0.0]]"
    assert os.path.getmtime(first.path) == before
    assert shared_objects(tmp_path) == [first.path.name]


def test_two_processes_compiling_at_once_share_one_good_kernel(tmp_path):
    script = textwrap.dedent(
        """
        import json, dsanalyze as ds
        F = ds.Map("x y", ["1 - a*x**2 + y + 0.375", "b*x"], name="race")
        r = ds.iterate(F, [[0.0, 0.0]], 2, {"a": 1.0, "b": 0.5})
        print(json.dumps(r.final.tolist()))
        """
    )
    env = dict(os.environ, DSANALYZE_CACHE=str(tmp_path))
    procs = [
        subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err for _, err in outputs]
    # x1 = 1.375, y1 = 0; x2 = 1 - 1.375^2 + 0 + 0.375, y2 = 0.5 * 1.375
    want = [[1.0 - 1.375**2 + 0.375, 0.6875]]
    for out, _ in outputs:
        assert np.allclose(json.loads(out), want, rtol=1e-15)
    assert len(shared_objects(tmp_path)) == 1
    leftovers = [p for p in os.listdir(tmp_path) if p.startswith(".build-")]
    assert leftovers == []


def test_missing_compiler_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("DSANALYZE_CACHE", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.delenv("CC", raising=False)
    with pytest.raises(ds.errors.CompilerNotFoundError, match="apt-get install gcc"):
        ds.compile_system(fresh_system(0.625))
    assert shared_objects(tmp_path) == []


def test_compiler_rejection_is_a_compilation_error_and_leaves_no_file(tmp_path, monkeypatch):
    monkeypatch.setenv("DSANALYZE_CACHE", str(tmp_path))
    monkeypatch.setenv("DSANALYZE_CFLAGS", "-fno-such-flag-for-dsanalyze")
    with pytest.raises(ds.errors.CompilationError, match="no-such-flag"):
        ds.compile_system(fresh_system(0.875))
    assert os.listdir(tmp_path) == []


def test_unsupported_function_is_refused_before_compiling():
    f = sp.Function("g")
    x = sp.Symbol("x", real=True)
    with pytest.raises(ds.errors.CompilationError, match="cannot generate C for g"):
        generate_source(ds.Map([x], [f(x)]))


def test_generated_source_eliminates_common_subexpressions_and_expands_powers():
    source = generate_source(ds.models.two_factor())
    rhs_function = source[source.index("void ds_rhs("):source.index("void ds_jac(")]
    # u*v - 1 appears in both components: computed once per evaluation.
    assert rhs_function.count("-1.0 + (x[0]*x[1])") == 1
    # Every step body of the block kernel computes it once: the fast pass (4 groups of 8 lanes
    # on AVX-512, and the plain lane loop for other machines), exact replay and at-rest check.
    assert source.count("-1.0 + (ds_s0*ds_s1)") == 4 + 1 + 1 + 1
    # The tangent kernel's two loops (fast, replay) share u*v between F and its Jacobian.
    tangent = source[source.index("tangent(double *restrict x"):]
    assert tangent.count("const double ds_t0 = ds_s0*ds_s1;") == 2
    assert "pow(" not in generate_source(ds.models.double_well_gd())


def test_pickled_system_round_trips_and_runs_the_same():
    import pickle

    F = ds.models.henon()
    before = ds.iterate(F, [[0.1, 0.0]], 50).final
    G = pickle.loads(pickle.dumps(F))
    assert G == F and G.name == F.name and G.defaults == F.defaults and G.reference == F.reference
    np.testing.assert_array_equal(ds.iterate(G, [[0.1, 0.0]], 50).final, before)


def test_kernels_built_without_avx512_give_the_same_numbers(tmp_path, monkeypatch):
    # On a machine without AVX-512 the block kernel takes its plain lane loop instead
    # of the vector fast pass; both must give the same escapes and states, and the
    # fused tangent kernel the same exponent.
    if "__AVX512DQ__" not in subprocess.run(
        [*compiler_command(), "-march=native", "-dM", "-E", "-x", "c", "/dev/null"], capture_output=True, text=True
    ).stdout:
        pytest.skip("this machine has no AVX-512: the plain loop is the one every test runs")
    rng = np.random.default_rng(3)
    X0 = rng.uniform(-2.0, 2.0, size=(500, 2))
    runs = {}
    for flags in ("", "-mno-avx512f"):
        monkeypatch.setenv("DSANALYZE_CFLAGS", flags)
        monkeypatch.setenv("DSANALYZE_CACHE", str(tmp_path / (flags or "native")))
        model = ds.models.two_factor()  # a fresh system: no kernel attached yet
        result = ds.iterate(model, X0, 300, {"mu": 1.5}, record=40)
        henon = ds.lyapunov_spectrum(ds.models.henon(), [0.1, 0.1], 20000)
        runs[flags] = (result, henon.exponents)
    (native, lyap_native), (plain, lyap_plain) = runs[""], runs["-mno-avx512f"]
    np.testing.assert_array_equal(plain.escape_step, native.escape_step)
    np.testing.assert_allclose(plain.final, native.final, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(plain.recorded, native.recorded, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(lyap_plain, lyap_native, rtol=0, atol=1e-12)
