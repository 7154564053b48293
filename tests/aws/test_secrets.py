"""Secrets from SSM (SecureString) and Secrets Manager, read once per cold start.

A missing parameter must never crash the init (Lambda would retry it on every request): the
startup logs it, callers get 503 configuration_error, and a later request tries again.
"""

from __future__ import annotations

import logging
import os

import boto3
import pytest

from shared.config import settings
from tests.support import http_api_event, json_body, lambda_context, load_main


def cold_start(name: str):
    """The function's main.py imported afresh, as Lambda does on a cold start."""
    return load_main(name, f"cold_{name}").handler


def add_item(handler, token, product_id):
    event = http_api_event(
        "/add-item", {"product_id": product_id}, headers={"Authorization": token}
    )
    return handler(event, lambda_context())


@pytest.fixture
def secrets_in_ssm(aws, env, database_url):
    """The database URL and the JWKS moved from plain variables to SSM SecureStrings."""
    ssm = boto3.client("ssm")
    ssm.put_parameter(Name="/shop/test/database-url", Value=database_url, Type="SecureString")
    ssm.put_parameter(Name="/shop/test/jwt-jwks", Value=os.environ["JWT_JWKS"], Type="SecureString")
    env(
        DATABASE_URL=None,
        JWT_JWKS=None,
        DATABASE_URL_SSM_PARAM="/shop/test/database-url",
        JWT_JWKS_SSM_PARAM="/shop/test/jwt-jwks",
    )
    return ssm


def test_ssm_securestrings_are_read_once_per_cold_start(secrets_in_ssm, new_user, admin):
    handler = cold_start("add_item")
    product = admin.create_product(stock=5)
    _, token = new_user()
    assert add_item(handler, token, product)["statusCode"] == 200
    # Cached: gone from SSM, still known to this warm instance.
    secrets_in_ssm.delete_parameters(Names=["/shop/test/database-url", "/shop/test/jwt-jwks"])
    assert add_item(handler, token, product)["statusCode"] == 200
    assert admin.stock(product) == 3


def test_secrets_manager_arns_work_the_same(aws, env, database_url, new_user, admin):
    secrets = boto3.client("secretsmanager")
    arn = secrets.create_secret(Name="shop/test/database-url", SecretString=database_url)["ARN"]
    env(DATABASE_URL=None, DATABASE_URL_SECRET_ARN=arn)
    assert settings().database_url == database_url
    product = admin.create_product(stock=5)
    _, token = new_user()
    assert add_item(cold_start("add_item"), token, product)["statusCode"] == 200


def test_a_missing_parameter_gives_503_then_recovers_without_a_redeploy(
    secrets_in_ssm, new_user, admin, caplog, database_url
):
    secrets_in_ssm.delete_parameter(Name="/shop/test/database-url")
    caplog.set_level(logging.ERROR)
    handler = cold_start("add_item")  # the init itself succeeds
    logged = [r.getMessage() for r in caplog.records]
    assert any(
        "startup: configuration error" in m and "DATABASE_URL_SSM_PARAM" in m for m in logged
    )
    assert any("/shop/test/database-url" in m and "ParameterNotFound" in m for m in logged)
    product = admin.create_product(stock=5)
    _, token = new_user()
    for _ in range(2):  # every request answers, none crashes
        result = add_item(handler, token, product)
        assert result["statusCode"] == 503
        error = json_body(result)["error"]
        assert error["code"] == "configuration_error"
        assert "DATABASE_URL_SSM_PARAM" in error["message"]
        assert "/shop/test" not in result["body"] and "Traceback" not in result["body"]
    secrets_in_ssm.put_parameter(
        Name="/shop/test/database-url", Value=database_url, Type="SecureString"
    )
    assert add_item(handler, token, product)["statusCode"] == 200
    assert admin.stock(product) == 4
