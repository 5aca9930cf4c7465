"""Build the Cython kernels: every ``.pyx`` under ``src/stockopt/_kernels/`` becomes an extension."""

from pathlib import Path

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup

KERNELS = Path("src/stockopt/_kernels")

extensions = [
    Extension(
        "stockopt._kernels." + pyx.stem,
        [str(pyx)],
        include_dirs=[np.get_include()],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        extra_compile_args=["-O3"],
    )
    for pyx in sorted(KERNELS.glob("*.pyx"))
]

setup(ext_modules=cythonize(extensions, compiler_directives={"language_level": "3"}))
