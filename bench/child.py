"""One contestant process: ``python -m bench.child PROCESS THREADS BLOCKS MODULE...``.

Builds ``MODULE.cases(PROCESS, THREADS)`` for each module that has PROCESS, times each case
(``bench.harness.time_case``) and prints the results as one JSON line. Started by
``bench.harness.separate_processes`` with the thread variables of its environment already set.
"""

from __future__ import annotations

import sys

from bench.harness import child, emit

if __name__ == "__main__":
    process, threads, blocks, *modules = sys.argv[1:]
    emit(child(modules, process, int(threads), int(blocks)), "", as_json=True)
