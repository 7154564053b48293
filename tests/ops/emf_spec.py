"""CloudWatch's Embedded Metric Format specification, as a checker for log lines.

The rules of "Specification: Embedded metric format" (Amazon CloudWatch User Guide): a JSON
schema for the structure, and the rules a schema cannot say (every reference names a member of
the root node; a dimension is a string, a metric a number or at most 100 numbers).
"""

from __future__ import annotations

import jsonschema

# CloudWatch's units (MetricDatum); a MetricDefinition's Unit SHOULD be one of them.
UNITS = [
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
]
_NAME = {"type": "string", "minLength": 1, "maxLength": 255}
SCHEMA = {
    "type": "object",
    "required": ["_aws"],
    "properties": {
        "_aws": {
            "type": "object",
            "required": ["Timestamp", "CloudWatchMetrics"],
            "properties": {
                "Timestamp": {"type": "integer", "minimum": 0},  # ms since the epoch
                "CloudWatchMetrics": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "required": ["Namespace", "Dimensions", "Metrics"],
                        "additionalProperties": False,
                        "properties": {
                            "Namespace": _NAME,
                            "Dimensions": {
                                "type": "array",
                                "minItems": 1,
                                # a DimensionSet: at most 30 keys (9 before 2023), may be empty
                                "items": {"type": "array", "maxItems": 30, "items": _NAME},
                            },
                            "Metrics": {
                                "type": "array",
                                "maxItems": 100,
                                "items": {
                                    "type": "object",
                                    "required": ["Name"],
                                    "additionalProperties": False,
                                    "properties": {
                                        "Name": _NAME,
                                        "Unit": {"enum": UNITS},
                                        "StorageResolution": {"enum": [1, 60]},
                                    },
                                },
                            },
                        },
                    },
                },
            },
        }
    },
}


def check(line: dict) -> None:
    """Raise AssertionError (or jsonschema's ValidationError) unless `line` is valid EMF."""
    jsonschema.validate(line, SCHEMA)
    for directive in line["_aws"]["CloudWatchMetrics"]:
        for dimension_set in directive["Dimensions"]:
            for key in dimension_set:
                assert isinstance(line.get(key), str), f"dimension {key!r} is not a root string"
        for metric in directive["Metrics"]:
            value = line.get(metric["Name"])
            values = value if isinstance(value, list) else [value]
            assert 1 <= len(values) <= 100, f"metric {metric['Name']!r}: {value!r}"
            assert all(
                isinstance(v, int | float) and not isinstance(v, bool) for v in values
            ), f"metric {metric['Name']!r} is not numeric: {value!r}"
