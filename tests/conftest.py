"""Every test writes its audit trail to a temporary file, never to the project's own, with a test key
(so no key file is made next to a log)."""

import pytest

AUDIT_TEST_KEY = "test-audit-key-not-for-production"


@pytest.fixture(autouse=True)
def _audit_to_tmp(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("HOUSING_ASSURANCE_AUDIT", str(tmp_path_factory.mktemp("audit") / "audit.jsonl"))
    monkeypatch.setenv("HOUSING_ASSURANCE_AUDIT_KEY", AUDIT_TEST_KEY)
    monkeypatch.delenv("HOUSING_ASSURANCE_AUDIT_KEY_FILE", raising=False)
