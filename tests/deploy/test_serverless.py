"""serverless.yml through the real Serverless Framework CLI (v3, offline, dummy credentials):
the CloudFormation template it generates is what `serverless deploy` would create."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import pytest
import yaml

from deploy import package
from functions import registry
from shared import config
from shared.service import unit_of_work
from tests.support import ROOT

ROUTES = {f.deployed_name: f.name for f in registry.COMMANDS}
SCHEDULED = {f.deployed_name: f.name for f in registry.JOBS}
FUNCTIONS = {**ROUTES, **SCHEDULED}
PUBLISHERS = {"checkout", "relay-outbox"}  # the only ones allowed to send to the queue


@pytest.fixture(scope="module")
def package_stage(built_packages, tmp_path_factory):
    """`package_stage(stage)` -> the Resources of the template `serverless package --stage` makes,
    run once per stage in a copy of the project that points at the built zips."""
    made = {}

    def package_for(stage: str) -> dict:
        if stage in made:
            return made[stage]
        work = tmp_path_factory.mktemp(f"serverless-{stage}")
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
            [str(cli), "package", "--stage", stage, "--region", "eu-central-1"],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert ran.returncode == 0, ran.stdout[-2000:] + ran.stderr[-2000:]
        generated = work / ".serverless" / "cloudformation-template-update-stack.json"
        made[stage] = json.loads(generated.read_text())["Resources"]
        return made[stage]

    return package_for


@pytest.fixture(scope="module")
def template(package_stage):
    """A stage with no entry of its own in `params:` (it takes `default`)."""
    return package_stage("test")


def of_type(resources: dict, kind: str) -> dict:
    return {name: r for name, r in resources.items() if r["Type"] == kind}


def lambda_named(resources: dict, function: str, stage: str = "test") -> dict:
    [found] = [
        r["Properties"]
        for r in of_type(resources, "AWS::Lambda::Function").values()
        if r["Properties"]["FunctionName"] == f"shopping-system-{stage}-{function}"
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


STAGES = ("dev", "test", "prod")
# HTTP API ends every integration at 30 s (Serverless v3 sets TimeoutInMillis to 30000).
HTTP_API_LIMIT_SECONDS = 30
# docs/deploy.md, "Concurrency and throttling": the rate a route admits per instance.
RATE_PER_INSTANCE = 20


def params_of(stage: str) -> dict:
    """serverless.yml's `params:` as the stage sees them: its own entry over `default`."""
    params = yaml.safe_load((ROOT / "serverless.yml").read_text())["params"]
    return {**params["default"], **params.get(stage, {})}


def lambda_settings(variables: dict, monkeypatch) -> config.Settings:
    """shared/config.py's reading of a function's environment (defaults for what it leaves out)."""
    for name in [n for n in os.environ if n.startswith(("DB_", "CART_", "OUTBOX_"))]:
        monkeypatch.delenv(name)
    for name, value in variables.items():
        if isinstance(value, str):
            monkeypatch.setenv(name, value)
    config.settings.cache_clear()
    try:
        return config.settings()
    finally:
        config.settings.cache_clear()  # the next reader sees the test environment again


@pytest.mark.parametrize("function", FUNCTIONS)
def test_each_function_outlasts_its_worst_case(template, function, monkeypatch):
    """Every attempt may wait a connection (or a silent server) and a statement, lock waits
    included, before the command answers 503 itself: the timeout must leave room for all of
    them, or Lambda kills the instance mid-command and API Gateway answers without our JSON or
    correlation id (docs/reliability.md, "Time budget")."""
    props = lambda_named(template, function)
    cfg = lambda_settings(props["Environment"]["Variables"], monkeypatch)
    worst = unit_of_work.ATTEMPTS * (
        cfg.db_connect_timeout_seconds + cfg.db_statement_timeout_ms / 1000
    )
    assert cfg.db_lock_timeout_ms <= cfg.db_statement_timeout_ms  # lock waits fit in a statement
    assert props["Timeout"] > worst, (function, props["Timeout"], worst)
    if function in ROUTES:
        assert props["Timeout"] < HTTP_API_LIMIT_SECONDS  # else the gateway gives up first


@pytest.mark.parametrize("stage", STAGES)
def test_cors_exposes_what_the_page_reads_and_allows_only_the_stages_origins(package_stage, stage):
    """API Gateway's CORS replaces the functions' own: what it does not expose, the page
    cannot read in production."""
    resources = package_stage(stage)
    [api] = of_type(resources, "AWS::ApiGatewayV2::Api").values()
    cors = api["Properties"]["CorsConfiguration"]
    assert {"Retry-After", "Idempotent-Replayed", "X-Correlation-ID"} <= set(cors["ExposeHeaders"])
    assert {"Authorization", "Content-Type", "Idempotency-Key"} <= set(cors["AllowHeaders"])
    origins = cors["AllowOrigins"]
    assert origins and "*" not in origins
    local = [o for o in origins if re.match(r"https?://(localhost|127\.0\.0\.1)(:|$)", o)]
    if stage == "dev":
        assert local  # the page of `make run` may call the dev stage
    else:
        assert not local, origins
        assert all(o.startswith("https://") for o in origins), origins
    if stage == "prod":
        assert origins == ["https://shop.example.com"]
    # The functions' own check (ALLOWED_ORIGINS) agrees with the gateway's.
    for function in FUNCTIONS:
        variables = lambda_named(resources, function, stage)["Environment"]["Variables"]
        assert variables["ALLOWED_ORIGINS"] == {"Fn::Join": [",", origins]}


@pytest.mark.parametrize("stage", STAGES)
def test_reserved_concurrency_keeps_every_connection_within_the_budget(
    package_stage, stage, monkeypatch
):
    """A flood cannot open more connections than the database (or its pooler) gives: each
    instance may hold pool + overflow = 2 × DB_POOL_SIZE connections (shared/adapters/postgres/connection.py), and
    reserved concurrency caps the instances of each function."""
    resources = package_stage(stage)
    held = 0
    for function in FUNCTIONS:
        props = lambda_named(resources, function, stage)
        instances = props.get("ReservedConcurrentExecutions")
        assert isinstance(instances, int) and instances >= 1, (stage, function, instances)
        pool_size = lambda_settings(props["Environment"]["Variables"], monkeypatch).db_pool_size
        held += instances * 2 * pool_size
    assert held <= params_of(stage)["dbConnectionBudget"], (stage, held)


@pytest.mark.parametrize("stage", STAGES)
def test_each_route_is_throttled_to_what_its_instances_serve(package_stage, stage):
    """Beyond its function's instances, a route answers 429 at the gateway instead of queueing
    on Lambda (burst = reserved concurrency, rate = 20 requests/s per instance)."""
    resources = package_stage(stage)
    [stage_resource] = of_type(resources, "AWS::ApiGatewayV2::Stage").values()
    settings = stage_resource["Properties"]
    default = settings["DefaultRouteSettings"]
    assert default["ThrottlingBurstLimit"] >= 1 and default["ThrottlingRateLimit"] >= 1
    routes = settings["RouteSettings"]
    assert set(routes) == {f"POST /{route}" for route in ROUTES}
    for route in ROUTES:
        instances = lambda_named(resources, route, stage)["ReservedConcurrentExecutions"]
        throttle = routes[f"POST /{route}"]
        assert throttle["ThrottlingBurstLimit"] == instances, (stage, route)
        assert throttle["ThrottlingRateLimit"] == instances * RATE_PER_INSTANCE, (stage, route)
        assert default["ThrottlingBurstLimit"] <= instances
    # RouteSettings may only name routes that exist when the stage is created.
    route_ids = set(of_type(resources, "AWS::ApiGatewayV2::Route"))
    assert route_ids <= set(stage_resource["DependsOn"])


def test_every_function_checks_the_token_issuer(template):
    """A token signed by a trusted key but issued elsewhere is refused (JWT_ISSUER)."""
    for function in FUNCTIONS:
        variables = lambda_named(template, function)["Environment"]["Variables"]
        assert variables["JWT_ISSUER"].startswith("https://")
        assert variables["JWT_ISSUER"].endswith(".supabase.co/auth/v1")


# Operations (issue 12): the dashboard and the alarms, as CloudFormation will create them.
OPS_NAMESPACE = "ShoppingSystem/test"


def _expanded(rows: list[list]) -> list[tuple[list, dict]]:
    """A dashboard's metric rows with CloudWatch's "..." shorthand spelled out."""
    found, previous = [], []
    for row in rows:
        options = row[-1] if isinstance(row[-1], dict) else {}
        values = [v for v in row if not isinstance(v, dict)]
        if values and values[0] == "...":
            values = previous[: len(previous) - (len(values) - 1)] + values[1:]
        found.append((values, options))
        previous = values
    return found


def _our_metric(values: list) -> tuple[str, dict[str, str]]:
    """(metric name, dimensions) of a row in our namespace, checked against what we emit."""
    from shared import errors, metrics

    namespace, name, *pairs = values
    assert namespace == OPS_NAMESPACE and name in metrics.UNITS, values
    dimensions = dict(zip(pairs[::2], pairs[1::2], strict=True))
    assert dimensions["function"] in registry.NAMES, values
    outcomes = {f"{f.status} {f.code}" for f in errors.ERROR_TABLE.values()}
    assert set(dimensions) <= {"function", "outcome"}, values
    assert dimensions.get("outcome", "409 insufficient_stock") in outcomes, values
    return name, dimensions


def test_every_function_sends_its_figures_to_the_stage_s_namespace(template):
    for function in FUNCTIONS:
        variables = lambda_named(template, function)["Environment"]["Variables"]
        assert variables["METRICS_NAMESPACE"] == OPS_NAMESPACE


def test_the_dashboard_shows_what_an_operator_watches(template):
    [dashboard] = of_type(template, "AWS::CloudWatch::Dashboard").values()
    assert dashboard["Properties"]["DashboardName"] == "shopping-system-test"
    widgets = json.loads(dashboard["Properties"]["DashboardBody"])["widgets"]
    by_title = {w["properties"]["title"]: w["properties"] for w in widgets}
    seen = set()
    for title, properties in by_title.items():
        assert properties["region"] == "eu-central-1", title
        for values, options in _expanded(properties["metrics"]):
            if values[0] == "AWS/SQS":
                assert values[1:] == [
                    "ApproximateNumberOfMessagesVisible",
                    "QueueName",
                    "shopping-system-test-order-events-dlq",
                ]
                seen.add(("dlq depth", None))
                continue
            name, dimensions = _our_metric(values)
            stat = options.get("stat", properties.get("stat"))
            seen.add((name, stat, dimensions["function"], dimensions.get("outcome")))
    commands = [f.name for f in registry.COMMANDS]
    for command in commands:
        assert ("requests", "Sum", command, None) in seen
        assert {
            ("duration_ms", "p50", command, None),
            ("duration_ms", "p99", command, None),
        } <= seen
        for flag in ("throttled", "busy", "server_errors"):  # 429, 503 busy, 5xx rates
            assert (flag, "Average", command, None) in seen
        assert ("lock_wait_ms", "p99", command, None) in seen
    assert ("requests", "Sum", "add_item", "409 insufficient_stock") in seen  # stock-outs
    assert ("outbox_pending", "Maximum", "relay_outbox", None) in seen
    assert ("outbox_oldest_pending_s", "Maximum", "relay_outbox", None) in seen
    assert ("dlq depth", None) in seen
    assert ("released_units", "Sum", "release_expired_carts", None) in seen


def _alarm_metrics(properties: dict) -> list[tuple[str, str, dict]]:
    """(namespace, name, dimensions) of every metric an alarm reads."""
    if "MetricName" in properties:
        dimensions = {d["Name"]: d["Value"] for d in properties["Dimensions"]}
        return [(properties["Namespace"], properties["MetricName"], dimensions)]
    found = []
    for query in properties["Metrics"]:
        if "MetricStat" in query:
            metric = query["MetricStat"]["Metric"]
            dimensions = {d["Name"]: d["Value"] for d in metric["Dimensions"]}
            found.append((metric["Namespace"], metric["MetricName"], dimensions))
    return found


def test_the_alarms_notify_the_on_call_topic(template):
    [topic] = of_type(template, "AWS::SNS::Topic")
    alarms = {
        a["Properties"]["AlarmName"].removeprefix("shopping-system-test-"): a["Properties"]
        for a in of_type(template, "AWS::CloudWatch::Alarm").values()
    }
    assert set(alarms) == {
        "5xx-rate",
        "p99-over-budget",
        "busy-rate",
        "dlq-not-empty",
        "outbox-older-than-5-minutes",
        "sweep-failing",
    }
    for name, properties in alarms.items():
        assert properties["AlarmActions"] == [{"Ref": topic}], name
        assert properties["OKActions"] == [{"Ref": topic}], name
        assert "docs/operations.md" in properties["AlarmDescription"], name
        for namespace, metric, dimensions in _alarm_metrics(properties):
            if namespace == OPS_NAMESPACE:
                _our_metric([namespace, metric, *[x for kv in dimensions.items() for x in kv]])
    commands = {f.name for f in registry.COMMANDS}
    for name, metric in [("5xx-rate", "server_errors"), ("busy-rate", "busy")]:
        read = _alarm_metrics(alarms[name])
        assert {d["function"] for _, m, d in read if m == metric} == commands
        assert {d["function"] for _, m, d in read if m == "requests"} == commands
    assert {d["function"] for _, _, d in _alarm_metrics(alarms["p99-over-budget"])} == commands
    outbox = alarms["outbox-older-than-5-minutes"]
    assert (outbox["MetricName"], outbox["Threshold"]) == ("outbox_oldest_pending_s", 300)
    assert outbox["TreatMissingData"] == "breaching"  # a relay that stopped reporting alarms too
    dlq = alarms["dlq-not-empty"]
    assert dlq["Dimensions"][0]["Value"] == {
        "Fn::GetAtt": ["OrderEventsDeadLetterQueue", "QueueName"]
    }
    sweep = alarms["sweep-failing"]
    assert (sweep["Namespace"], sweep["MetricName"]) == ("AWS/Lambda", "Errors")
    assert sweep["Dimensions"][0]["Value"] == {"Ref": "ReleaseDashexpiredDashcartsLambdaFunction"}
    assert sweep["TreatMissingData"] == "breaching"  # a sweep that stopped running alarms too
