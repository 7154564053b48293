"""The GitHub Actions pipeline cannot run here; this checks what can be checked of it."""

from __future__ import annotations

import re

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
    assert commands.index("make package") < commands.index("serverless deploy")
    assert "aws ssm get-parameter" in commands
    for route in ("add-item", "remove-item", "checkout"):
        assert route in commands


WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
# `uses: owner/repo@<40 hex> # v1.2.3`: a tag can be moved to other code, a commit cannot.
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$")


def test_every_action_is_pinned_to_a_commit_sha_with_its_release_in_a_comment():
    assert WORKFLOWS
    found = []
    for path in WORKFLOWS:
        for line in path.read_text().splitlines():
            match = re.match(r"^\s*(?:-\s+)?uses:\s*(.+)$", line)
            if match:
                found.append(match.group(1).strip())
                assert PINNED.match(match.group(1).strip()), f"{path.name}: {line.strip()}"
    assert len(found) >= 7  # checkout, setup-python, setup-node twice; the AWS credentials
    # What YAML reads agrees with the lines checked above (no `uses:` hidden in another form).
    for path in WORKFLOWS:
        flow = yaml.safe_load(path.read_text())
        for job in flow["jobs"].values():
            for step in job["steps"]:
                if "uses" in step:
                    assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", step["uses"]), step


def _installs(command: str) -> bool:
    """A step that fetches or builds dependencies (packages' code may run there)."""
    return bool(
        re.search(
            r"\b(npm (ci|install)|pip install|make\b[^\n]*\b(venv|npm|package|test))", command
        )
    )


def test_aws_credentials_are_taken_only_after_every_dependency_is_installed():
    steps = workflow()["jobs"]["deploy"]["steps"]
    [credentials] = [
        i
        for i, step in enumerate(steps)
        if step.get("uses", "").startswith("aws-actions/configure-aws-credentials@")
    ]
    installing = [i for i, step in enumerate(steps) if _installs(step.get("run", ""))]
    assert installing, "the deploy job installs its dependencies in a step of its own"
    assert max(installing) < credentials
    after = "\n".join(step.get("run", "") for step in steps[credentials:])
    assert "serverless deploy" in after  # what needs them
    assert not _installs(after)
    # The test job never gets AWS credentials at all.
    assert not any("aws" in step.get("uses", "") for step in workflow()["jobs"]["test"]["steps"])


def test_npm_runs_no_install_scripts():
    """No package in either npm lock needs one (serverless, aws-sdk and es5-ext print messages)."""
    commands = [(ROOT / "Makefile").read_text()]
    commands += ["\n".join(runs(job)) for job in workflow()["jobs"].values()]
    npm_ci = [line for text in commands for line in text.splitlines() if "npm ci" in line]
    assert len(npm_ci) >= 2  # the Serverless CLI and the page's supabase-js
    assert all("--ignore-scripts" in line for line in npm_ci), npm_ci
    assert not any("npm install" in text for text in commands)


def test_pip_installs_only_from_hash_pinned_locks():
    texts = {path.name: path.read_text() for path in [ROOT / "Makefile", *WORKFLOWS]}
    installs = [
        (name, line)
        for name, text in texts.items()
        for line in text.splitlines()
        if re.search(r"\bpip\b.*\binstall\b", line) and not line.lstrip().startswith("#")
    ]
    assert installs
    for name, line in installs:
        assert "--require-hashes -r requirements-dev.txt" in line, (name, line)
    # The Lambda zips: the runtime lock, for the target platform (tests/deploy/test_packages.py
    # checks what lands in them).
    source = (ROOT / "deploy" / "package.py").read_text()
    assert '["--require-hashes", "--requirement", str(RUNTIME_LOCK)]' in source
