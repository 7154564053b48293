"""docs/operations.md keeps up with the figures the functions emit and the alarms deployed."""

from __future__ import annotations

import re

import yaml

from shared import metrics
from tests.support import ROOT

RUNBOOK = (ROOT / "docs" / "operations.md").read_text()


def test_every_figure_is_explained():
    missing = [name for name in metrics.UNITS if f"`{name}`" not in RUNBOOK]
    assert missing == []


def test_every_alarm_has_a_section_saying_what_to_do():
    resources = yaml.safe_load((ROOT / "serverless.yml").read_text())["resources"]["Resources"]
    alarms = [
        r["Properties"]["AlarmName"].removeprefix("${self:service}-${sls:stage}-")
        for r in resources.values()
        if r["Type"] == "AWS::CloudWatch::Alarm"
    ]
    headings = set(re.findall(r"^### `([^`]+)`", RUNBOOK, flags=re.MULTILINE))
    assert len(alarms) == 6 and set(alarms) <= headings
