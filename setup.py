"""Build the Cython drivers in ``cext/`` (OpenMP where the compiler has it)."""
import glob
import os
import subprocess
import sys
import sysconfig
import tempfile

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup


def _compiler_has_openmp() -> bool:
    """Compile and link a tiny OpenMP program with the compiler Python builds with."""
    cc = os.environ.get("CC") or (sysconfig.get_config_var("CC") or "cc").split()[0]
    source = "#include <omp.h>\nint main(void){return omp_get_max_threads() > 0 ? 0 : 1;}\n"
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "probe.c")
        with open(src, "w") as fh:
            fh.write(source)
        try:
            result = subprocess.run(
                [cc, "-fopenmp", src, "-o", os.path.join(tmp, "probe")],
                capture_output=True,
            )
        except OSError:
            return False
        return result.returncode == 0


openmp = ["-fopenmp"] if sys.platform != "win32" and _compiler_has_openmp() else []

extensions = [
    Extension(
        "dsanalyze." + os.path.splitext(os.path.basename(path))[0],
        [path],
        include_dirs=[numpy.get_include(), "cext"],
        extra_compile_args=["-O3", *openmp],
        extra_link_args=openmp,
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
    )
    for path in sorted(glob.glob("cext/_*.pyx"))
]

setup(
    ext_modules=cythonize(
        extensions,
        include_path=["cext"],
        compiler_directives={
            "language_level": "3",
            "boundscheck": False,
            "wraparound": False,
            "cdivision": True,
            "initializedcheck": False,
        },
    )
)
