"""Targets and red/amber/green: one rule, checked on hand-worked values."""

from housing_assurance.kpis import KPIS
from housing_assurance.settings import Target, targets


def test_rag_higher_is_better():
    t = Target("x", True, 95.0, 5.0)
    assert t.rag(95.0) == "green"  # on target
    assert t.rag(90.0) == "amber"  # 5 points short: within the margin
    assert t.rag(89.9) == "red"
    assert t.rag(None) is None  # no cases due: no colour


def test_rag_lower_is_better_and_volumes():
    assert Target("x", False, 0.0, 2.0).rag(2.0) == "amber"
    assert Target("x", False, 0.0, 2.0).rag(3.0) == "red"
    assert Target("x", None, None, 0.0).rag(10.0) is None


def test_every_kpi_has_a_target_entry_and_legal_clocks_default_to_100():
    goals = targets()
    assert set(goals) == set(KPIS)
    for kpi_id in ("dm.emergency_made_safe_24h_pct", "dm.investigated_10wd_pct", "dm.summary_3wd_pct",
                   "dm.safety_work_5wd_pct", "dm.further_work_12wk_pct"):
        assert goals[kpi_id].target == 100 and goals[kpi_id].higher_is_better
