"""serverless.yml through the real Serverless Framework CLI (v3, offline, dummy credentials):
the CloudFormation template it generates is what `serverless deploy` would create."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
import yaml

from deploy import package
from functions import registry
from tests.support import ROOT

ROUTES = {f.deployed_name: f.name for f in registry.COMMANDS}
SCHEDULED = {f.deployed_name: f.name for f in registry.JOBS}
FUNCTIONS = {**ROUTES, **SCHEDULED}
PUBLISHERS = {"checkout", "relay-outbox"}  # the only ones allowed to send to the queue


@pytest.fixture(scope="module")
def template(built_packages, tmp_path_factory):
    """`serverless package` run once, in a copy of the project that points at the built zips."""
    work = tmp_path_factory.mktemp("serverless")
    shutil.copy(ROOT / "serverless.yml", work)
    (work / "node_modules").symlink_to(ROOT / "node_modules")
    (work / "dist").symlink_to(built_packages[0])
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "SLS_TELEMETRY_DISABLED": "1",
        "SLS_NOTIFICATIONS_MODE": "off",
    }
    cli = ROOT / "node_modules" / ".bin" / "serverless"
    ran = subprocess.run(
        [str(cli), "package", "--stage", "test", "--region", "eu-central-1"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert ran.returncode == 0, ran.stdout[-2000:] + ran.stderr[-2000:]
    generated = work / ".serverless" / "cloudformation-template-update-stack.json"
    return json.loads(generated.read_text())["Resources"]


def of_type(resources: dict, kind: str) -> dict:
    return {name: r for name, r in resources.items() if r["Type"] == kind}


def lambda_named(resources: dict, function: str) -> dict:
    [found] = [
        r["Properties"]
        for r in of_type(resources, "AWS::Lambda::Function").values()
        if r["Properties"]["FunctionName"] == f"shopping-system-test-{function}"
    ]
    return found


def test_one_lambda_per_function_each_with_its_own_zip(template):
    functions = of_type(template, "AWS::Lambda::Function")
    assert len(functions) >= len(FUNCTIONS)
    for function, folder in FUNCTIONS.items():
        props = lambda_named(template, function)
        assert props["Code"]["S3Key"].endswith(f"/{folder}.zip")
        assert props["Handler"] == "main.handler"
        assert props["Runtime"] == "python3.12"
        assert props["Architectures"] == ["x86_64"]
        variables = props["Environment"]["Variables"]
        # Resolved by CloudFormation at deploy time: nothing reads AWS at cold start.
        assert variables["DATABASE_URL"] == (
            "{{resolve:secretsmanager:shopping-system/test/database-url}}"
        )
        assert variables["JWT_JWKS"] == "{{resolve:ssm:/shopping-system/test/jwt-jwks}}"
        assert not any(name.endswith(("_SSM_PARAM", "_SECRET_ARN")) for name in variables)
        assert ("ORDER_EVENTS_QUEUE_URL" in variables) == (function in PUBLISHERS)


def test_http_api_routes_with_payload_2_and_cors(template):
    routes = {
        r["Properties"]["RouteKey"]: r["Properties"]["Target"]
        for r in of_type(template, "AWS::ApiGatewayV2::Route").values()
    }
    assert set(routes) == {f"POST /{route}" for route in ROUTES}
    for integration in of_type(template, "AWS::ApiGatewayV2::Integration").values():
        assert integration["Properties"]["PayloadFormatVersion"] == "2.0"
    [api] = of_type(template, "AWS::ApiGatewayV2::Api").values()
    cors = api["Properties"]["CorsConfiguration"]
    assert "X-Correlation-ID" in cors["ExposeHeaders"]
    assert {"Authorization", "Content-Type", "X-Correlation-ID"} <= set(cors["AllowHeaders"])
    assert "*" not in cors["AllowOrigins"]


def test_the_order_events_queue_and_the_relay_schedule(template):
    queues = of_type(template, "AWS::SQS::Queue")
    assert queues["OrderEventsQueue"]["Properties"]["QueueName"] == (
        "shopping-system-test-order-events"
    )
    rules = of_type(template, "AWS::Events::Rule").values()
    schedules = {
        r["Properties"]["Targets"][0]["Arn"]["Fn::GetAtt"][0]: r["Properties"]["ScheduleExpression"]
        for r in rules
    }
    assert schedules["RelayDashoutboxLambdaFunction"] == "rate(1 minute)"
    assert schedules["ReleaseDashexpiredDashcartsLambdaFunction"] == "rate(1 minute)"


def statements_of(template: dict, function: str) -> list[dict]:
    role = lambda_named(template, function)["Role"]["Fn::GetAtt"][0]
    policies = template[role]["Properties"]["Policies"]
    return [s for p in policies for s in p["PolicyDocument"]["Statement"]]


def test_each_function_has_its_own_least_privilege_role(template):
    roles = {lambda_named(template, f)["Role"]["Fn::GetAtt"][0] for f in FUNCTIONS}
    assert len(roles) == len(FUNCTIONS)
    assert "IamRoleLambdaExecution" not in template  # no shared role for everyone
    for function in FUNCTIONS:
        statements = statements_of(template, function)
        actions = {a for s in statements for a in _list(s["Action"])}
        assert all(s["Effect"] == "Allow" and s["Resource"] != "*" for s in statements)
        assert not any("*" in action for action in actions)
        assert ("sqs:SendMessage" in actions) == (function in PUBLISHERS), function
        assert actions <= {
            "logs:CreateLogStream",
            "logs:PutLogEvents",
            "sqs:SendMessage",
        }
        [sqs] = [s for s in statements if s["Action"] == "sqs:SendMessage"] or [None]
        if sqs:
            assert sqs["Resource"] == {"Fn::GetAtt": ["OrderEventsQueue", "Arn"]}


def _list(value):
    return value if isinstance(value, list) else [value]


def test_make_package_builds_for_the_runtime_serverless_yml_declares():
    config = yaml.safe_load((ROOT / "serverless.yml").read_text())
    assert config["provider"]["runtime"] == f"python{package.LAMBDA_PYTHON}"


def test_serverless_yml_deploys_exactly_the_functions_of_the_registry():
    functions = yaml.safe_load((ROOT / "serverless.yml").read_text())["functions"]
    assert set(functions) == {f.deployed_name for f in registry.FUNCTIONS}
    for function in registry.FUNCTIONS:
        spec = functions[function.deployed_name]
        assert spec["handler"] == "main.handler"
        assert spec["package"]["artifact"] == f"dist/{function.name}.zip"
        events = spec.get("events", [])
        routes = [e["httpApi"] for e in events if "httpApi" in e]
        schedules = [e["schedule"] for e in events if "schedule" in e]
        schedules = [s["rate"] if isinstance(s, dict) else s for s in schedules]
        assert routes == (
            [{"method": "POST", "path": f"/{function.route}"}] if function.route else []
        )
        assert schedules == ([function.schedule] if function.schedule else [])
