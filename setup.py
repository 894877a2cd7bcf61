"""Build the compiled kernel: every ``ext/*.pyx`` becomes the private module ``sim.<name>``.

Everything else about the package lives in ``pyproject.toml``.
"""

from pathlib import Path

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup

# NOTE: -ffp-contract=off forbids fused multiply-add contraction, so that every event time is
# computed with exactly the same IEEE arithmetic as the SimPy engine's Python floats.
COMPILE_ARGS = ["-O3", "-ffp-contract=off"]

extensions = [
    Extension(
        f"sim.{pyx.stem}",
        [str(pyx)],
        include_dirs=[np.get_include(), "ext"],
        extra_compile_args=COMPILE_ARGS,
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
    )
    for pyx in sorted(Path("ext").glob("*.pyx"))
]

setup(
    ext_modules=cythonize(
        extensions,
        language_level=3,
        compiler_directives={"boundscheck": False, "wraparound": False, "cdivision": True},
    ),
)
