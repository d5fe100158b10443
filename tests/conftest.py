"""Every test writes its audit trail to a temporary file, never to the project's own."""

import pytest


@pytest.fixture(autouse=True)
def _audit_to_tmp(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("HOUSING_ASSURANCE_AUDIT", str(tmp_path_factory.mktemp("audit") / "audit.jsonl"))
