"""A configuration error tells callers which variable, and nothing else: no ARN, account id,
region, secret name or value. The details go to the log."""

from __future__ import annotations

import logging

import boto3
import pytest

from tests.aws.test_secrets import add_item, cold_start
from tests.support import json_body


@pytest.mark.parametrize("how", ["binary", "missing"])
def test_a_secret_that_cannot_be_used_answers_503_naming_only_the_variable(
    aws, env, new_user, admin, caplog, how
):
    secrets = boto3.client("secretsmanager")
    name = "shop/test/unusable-database-url"
    if how == "binary":
        arn = secrets.create_secret(Name=name, SecretBinary=b"\x00\x01")["ARN"]
    else:
        arn = f"arn:aws:secretsmanager:eu-west-1:123456789012:secret:{name}-AbCdEf"
    env(DATABASE_URL=None, DATABASE_URL_SECRET_ARN=arn)
    caplog.set_level(logging.ERROR)
    handler = cold_start("add_item")
    _, token = new_user()
    result = add_item(handler, token, admin.create_product(stock=1))
    assert result["statusCode"] == 503
    error = json_body(result)["error"]
    assert error["code"] == "configuration_error"
    assert "DATABASE_URL_SECRET_ARN" in error["message"]
    for secret_detail in ("arn:", "123456789012", "eu-west-1", name):
        assert secret_detail not in result["body"]
    assert any(name in r.getMessage() for r in caplog.records)  # the operator can find it
