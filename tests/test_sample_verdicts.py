"""Every row of tests/data/sample_expectations.tsv (a person-checked golden table) on
the embedded sample kernel: status and decisive reasons, per arch, front end and kind."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from kpanalyze import api

DATA = Path(__file__).parent / "data"
ROWS = list(csv.DictReader(open(DATA / "sample_expectations.tsv"), delimiter="\t"))
CONFIGS = {"x86": "sample-x86_64.config", "arm": "sample-arm.config", "arm64": "sample-arm64.config",
           "riscv": "sample-riscv.config"}


@pytest.fixture(scope="module")
def kernel(sample_tree, tmp_path_factory):
    return api.open_kernel(sample_tree)


@pytest.mark.parametrize("row", ROWS, ids=lambda r: f"{r['point']}-{r['arch']}-{r['via']}-{r['kind']}-{r['config']}")
def test_expectation(kernel, row):
    config = DATA / "configs" / CONFIGS[row["arch"]] if row["config"] == "yes" and row["arch"] in CONFIGS else None
    res = api.check([row["point"]], arches=[row["arch"]], config=config, via=row["via"],
                    kinds=[row["kind"]], opened=kernel)
    (v,) = res.verdicts
    got = [r.id for r in v.reasons if r.decisive]
    want = [x for x in row["reasons"].split(",") if x]
    assert (v.status, sorted(got)) == (row["status"], sorted(want)), v
    for r in v.reasons:
        for e in r.evidence:
            assert e.path and (Path(kernel.tree.root) / e.path).exists(), e
