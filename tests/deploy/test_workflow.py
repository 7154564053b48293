"""The GitHub Actions pipeline cannot run here; this checks what can be checked of it."""

from __future__ import annotations

import yaml

from tests.support import ROOT


def workflow() -> dict:
    return yaml.safe_load((ROOT / ".github" / "workflows" / "deploy.yml").read_text())


def runs(job: dict) -> list[str]:
    return [step["run"] for step in job["steps"] if "run" in step]


def test_every_push_and_pull_request_runs_black_and_make_test():
    flow = workflow()
    triggers = flow[True]  # YAML 1.1 reads the key `on` as a boolean
    assert "push" in triggers and "pull_request" in triggers
    test_runs = runs(flow["jobs"]["test"])
    assert "make test" in test_runs  # the command .ci/run and the README give
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    assert "make lint" in test_runs and "black --check" in (ROOT / "Makefile").read_text()


def test_main_deploys_after_the_tests_with_oidc_then_smoke_tests():
    deploy = workflow()["jobs"]["deploy"]
    assert deploy["needs"] == "test"
    assert "refs/heads/main" in deploy["if"]
    assert deploy["permissions"]["id-token"] == "write"
    uses = [step.get("uses", "") for step in deploy["steps"]]
    assert any(u.startswith("aws-actions/configure-aws-credentials@") for u in uses)
    commands = "\n".join(runs(deploy))
    assert commands.index("make package") < commands.index("npx serverless deploy")
    assert "aws ssm get-parameter" in commands
    for route in ("add-item", "remove-item", "checkout"):
        assert route in commands
