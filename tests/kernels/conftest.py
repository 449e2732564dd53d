"""Shared by the kernel tests: the table tests of ``kernel_table`` run over the ``CASES`` of the
module that imports them."""

from __future__ import annotations

import pytest


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "case" in metafunc.fixturenames:
        cases = metafunc.module.CASES
        metafunc.parametrize("case", [pytest.param(case, id=case.id) for case in cases])
