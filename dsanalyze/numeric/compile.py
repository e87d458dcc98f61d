"""Compile a System to a native kernel, cached on disk by content hash.

The C source from :mod:`.codegen` is compiled once with the machine's C
compiler (``-O3 -march=native``: code built on the user's own machine can use
all of its vector units) into a shared object stored in a user cache
directory (``DSANALYZE_CACHE`` overrides it), named by a hash of the source,
the flags and the compiler's version. A second request for the same system,
in this process or a later one, costs no compile. Concurrent compiles of the
same system write to private temporary files and publish with an atomic
rename, so the cache is never seen half written.
"""
from __future__ import annotations

import ctypes
import hashlib
import os
import shlex
import shutil
import subprocess
import sysconfig
import tempfile
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ..errors import CompilationError, CompilerNotFoundError
from ..systems import Map, System
from .codegen import ABI_VERSION, LANES, generate_source

__all__ = ["Kernel", "compile_system", "cache_dir", "compiler_command", "DEFAULT_FLAGS"]

#: Flags for generated kernels. No -ffast-math: it would let the compiler assume
#: away the NaN and infinity tests that detect divergence.
DEFAULT_FLAGS = ("-O3", "-march=native", "-fno-math-errno", "-fno-trapping-math", "-fPIC", "-shared")

_INSTALL_HINT = (
    "dsanalyze compiles each system to native code and needs a C compiler. "
    "Install one (Debian/Ubuntu: 'apt-get install gcc'; Fedora: 'dnf install gcc'; "
    "macOS: 'xcode-select --install'; conda: 'conda install c-compiler'), "
    "or point the CC environment variable at it."
)


def cache_dir() -> Path:
    """Directory holding compiled kernels (``DSANALYZE_CACHE`` or the user cache directory)."""
    override = os.environ.get("DSANALYZE_CACHE")
    if override:
        return Path(override).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("dsanalyze")) / "kernels"


def compiler_command() -> list[str]:
    """The C compiler to use: ``CC``, else the one Python was built with, else cc/gcc/clang."""
    candidates = []
    if os.environ.get("CC"):
        candidates.append(os.environ["CC"])
    configured = sysconfig.get_config_var("CC")
    if configured:
        candidates.append(configured)
    candidates += ["cc", "gcc", "clang"]
    for candidate in candidates:
        words = shlex.split(candidate)
        if words and shutil.which(words[0]):
            return words
    raise CompilerNotFoundError(_INSTALL_HINT)


def _flags() -> tuple[str, ...]:
    extra = os.environ.get("DSANALYZE_CFLAGS")
    return DEFAULT_FLAGS + tuple(shlex.split(extra)) if extra else DEFAULT_FLAGS


@lru_cache(maxsize=8)
def _compiler_identity(command: tuple[str, ...]) -> str:
    try:
        result = subprocess.run([*command, "--version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise CompilerNotFoundError(f"cannot run the C compiler {' '.join(command)}: {exc}. {_INSTALL_HINT}") from None
    return result.stdout.strip()


@dataclass(frozen=True, eq=False)
class Kernel:
    """A system compiled to native code, ready for the drivers.

    Attributes
    ----------
    system : System
        The system compiled.
    path : Path
        The shared object in the cache.
    addresses : dict
        Addresses of the generated functions (``rhs``, ``jac``, ``map_block``, and ``tangent`` for a map),
        handed to the Cython drivers as integers.
    """

    system: System
    path: Path
    library: ctypes.CDLL = field(repr=False)
    addresses: dict = field(repr=False)

    @property
    def dim(self) -> int:
        return self.system.dim

    @property
    def npar(self) -> int:
        return len(self.system.params)

    @property
    def lanes(self) -> int:
        return LANES


_loaded: dict[str, Kernel] = {}
_lock = threading.Lock()


def _build(source: str, target: Path, command: list[str], flags: tuple[str, ...]) -> None:
    """Compile ``source`` into ``target`` atomically (private temp file, then rename)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".build-") as tmp:
        c_file = Path(tmp) / "kernel.c"
        c_file.write_text(source)
        so_file = Path(tmp) / target.name
        cmd = [*command, *flags, str(c_file), "-o", str(so_file), "-lm"]
        try:
            result = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        except FileNotFoundError:
            raise CompilerNotFoundError(_INSTALL_HINT) from None
        except subprocess.TimeoutExpired:
            raise CompilationError(f"the C compiler ran past 600 s on {target.name}") from None
        if result.returncode != 0:
            raise CompilationError(
                f"the C compiler failed on the kernel of this system (command: {' '.join(cmd)}):\n"
                + result.stderr.strip()[-4000:]
            )
        os.replace(so_file, target)


def compile_system(system: System) -> Kernel:
    """Compile ``system`` (or fetch it from the cache) and load it.

    Examples
    --------
    >>> from dsanalyze.models import henon
    >>> kernel = compile_system(henon())
    >>> kernel.dim, kernel.npar
    (2, 2)
    """
    if not isinstance(system, System):
        raise TypeError(f"expected a Map or a Flow, got {type(system).__name__}")
    if system._kernel is not None:  # a system is immutable: its kernel never changes
        return system._kernel
    kernel = _compile(system)
    object.__setattr__(system, "_kernel", kernel)
    return kernel


def _compile(system: System) -> Kernel:
    source = generate_source(system)
    command = compiler_command()
    flags = _flags()
    digest = hashlib.sha256(
        "\0".join([source, " ".join(command), " ".join(flags), _compiler_identity(tuple(command))]).encode()
    ).hexdigest()[:32]
    with _lock:
        kernel = _loaded.get(digest)
        if kernel is not None:
            return kernel if kernel.system is system else Kernel(system, kernel.path, kernel.library, kernel.addresses)
        target = cache_dir() / f"dsk_{digest}{sysconfig.get_config_var('SHLIB_SUFFIX') or '.so'}"
        if not target.exists():
            _build(source, target, command, flags)
        try:
            library = ctypes.CDLL(str(target))
        except OSError as exc:
            # A damaged cache entry (e.g. a disk filled mid-copy by another tool): rebuild once.
            _build(source, target, command, flags)
            try:
                library = ctypes.CDLL(str(target))
            except OSError:
                raise CompilationError(f"cannot load the compiled kernel {target}: {exc}") from None
        checks = {"ds_abi": ABI_VERSION, "ds_dim": system.dim, "ds_npar": len(system.params), "ds_lanes": LANES}
        for symbol, expected in checks.items():
            found = getattr(library, symbol)()
            if found != expected:
                raise CompilationError(f"kernel {target} reports {symbol}() = {found}, expected {expected}; delete the file")
        names = ("rhs", "jac", "map_block") + (("tangent",) if isinstance(system, Map) else ())
        addresses = {name: ctypes.cast(getattr(library, f"ds_{name}"), ctypes.c_void_p).value for name in names}
        kernel = Kernel(system, target, library, addresses)
        _loaded[digest] = kernel
        return kernel
