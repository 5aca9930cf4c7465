"""Build the Cython kernels: every ``.pyx`` anywhere under ``src/stockopt/_kernels/`` becomes an extension."""

from pathlib import Path

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup

KERNELS = Path("src/stockopt/_kernels")

extensions = [
    Extension(
        "stockopt." + ".".join(pyx.relative_to(KERNELS.parent).with_suffix("").parts),
        [str(pyx)],
        include_dirs=[np.get_include()],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        extra_compile_args=["-O3"],
    )
    for pyx in sorted(KERNELS.rglob("*.pyx"))
]

setup(ext_modules=cythonize(extensions, compiler_directives={"language_level": "3"}))
