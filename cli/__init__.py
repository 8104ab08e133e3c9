"""The ``symcheck`` command-line interface (the ``symcheck_cli`` package)."""

import os

# numpy's OpenBLAS starts one thread per core when it loads. symcheck's matrices are small, and on
# busy cores a second thread only waits: a 576x400 QR took 10 s with two threads and 0.07 s with
# one on a loaded two-core machine. Set here, before any numpy import; a value the user set is kept.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
