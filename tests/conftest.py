"""Shared test setup: compiled kernels go to a pytest temporary directory, never the user's cache."""
import pytest


@pytest.fixture(scope="session", autouse=True)
def _private_kernel_cache(tmp_path_factory):
    """Point DSANALYZE_CACHE at a fresh per-session directory for the whole run.

    ``dsanalyze.numeric.compile.cache_dir`` reads the variable on every compile,
    so setting it here (before any test body runs) keeps every kernel, and every
    subprocess started by a test, out of ``~/.cache/dsanalyze``.
    """
    cache = tmp_path_factory.mktemp("dsanalyze-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DSANALYZE_CACHE", str(cache))
        yield cache
