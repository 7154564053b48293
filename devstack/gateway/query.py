"""PostgREST's read query string, parsed and turned into one parameterized SELECT.

The subset: `select=` plain column lists (or `*`), filters `col=<op>.<value>` with eq, neq, gt,
gte, lt, lte, in and is, `order=col[.asc|.desc][.nullsfirst|.nullslast],...`, `limit`, `offset`.
Identifiers must exist in the relation (the caller passes its columns from the catalogue) and are
quoted; every value is a bound parameter. Anything outside the subset is refused, never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_ROWS = 1000  # PostgREST's db-max-rows: no request reads more than this
_COMPARISONS = {"eq": "=", "neq": "<>", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
_IS_VALUES = {"null": "null", "true": "true", "false": "false"}
# Column names the catalogue may hold but this subset does not need are refused as well, which
# keeps every identifier free of quotes, spaces and bind-parameter syntax.
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


class QueryError(Exception):
    """A request PostgREST would refuse; fields are PostgREST's error JSON."""

    def __init__(self, status: int, code: str, message: str, details: str | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details

    def as_json(self) -> dict:
        return {"code": self.code, "details": self.details, "hint": None, "message": self.message}


@dataclass(frozen=True)
class Filter:
    column: str
    operator: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Order:
    column: str
    descending: bool = False
    nulls: str | None = None  # "first" | "last"


@dataclass(frozen=True)
class ReadQuery:
    columns: tuple[str, ...] | None  # None: every column (`*`)
    filters: tuple[Filter, ...] = ()
    order: tuple[Order, ...] = ()
    limit: int | None = None
    offset: int = 0


def parse(args: list[tuple[str, str]]) -> ReadQuery:
    """Parse the query string's (key, value) pairs, in order, as PostgREST reads them."""
    columns, order, limit, offset, filters = None, (), None, 0, []
    for key, value in args:
        if key == "select":
            columns = _parse_select(value)
        elif key == "order":
            order = _parse_order(value)
        elif key == "limit":
            limit = _non_negative_int("limit", value)
        elif key == "offset":
            offset = _non_negative_int("offset", value)
        else:
            filters.append(_parse_filter(key, value))
    return ReadQuery(columns, tuple(filters), order, limit, offset)


def to_sql(relation: str, query: ReadQuery, known_columns: frozenset[str], single: bool):
    """(sql, params) for a relation the caller found in the catalogue with these columns.

    The statement returns one row: the rows as PostgREST's JSON (built by PostgreSQL, so types
    render exactly as PostgREST renders them) and the row count.
    """
    table = f"public.{_identifier(relation, relation, known_columns=None)}"
    select = (
        ", ".join(_identifier(c, relation, known_columns) for c in query.columns)
        if query.columns is not None
        else "*"
    )
    params: dict[str, str | int] = {}
    where = [_condition(f, relation, known_columns, params) for f in query.filters]
    sql = f"select {select} from {table}"
    if where:
        sql += " where " + " and ".join(where)
    if query.order:
        sql += " order by " + ", ".join(
            _order_term(o, relation, known_columns) for o in query.order
        )
    params["_limit"] = min(query.limit if query.limit is not None else MAX_ROWS, MAX_ROWS)
    params["_offset"] = query.offset
    sql += " limit :_limit offset :_offset"
    body = "(json_agg(_t) -> 0)::text" if single else "coalesce(json_agg(_t), '[]'::json)::text"
    return f"select {body}, count(*) from ({sql}) _t", params


def _parse_select(value: str) -> tuple[str, ...] | None:
    names = [part.strip() for part in value.split(",")]
    if names == ["*"]:
        return None
    for name in names:
        if not _IDENTIFIER.fullmatch(name):
            raise QueryError(
                400,
                "PGRST100",
                f'"failed to parse select parameter ({value})"',
                "only plain column names or * are supported here",
            )
    return tuple(names)


def _parse_order(value: str) -> tuple[Order, ...]:
    terms = []
    for term in value.split(","):
        column, *modifiers = term.strip().split(".")
        descending, nulls = False, None
        for modifier in modifiers:
            if modifier in ("asc", "desc"):
                descending = modifier == "desc"
            elif modifier in ("nullsfirst", "nullslast"):
                nulls = modifier[len("nulls") :]
            else:
                raise QueryError(400, "PGRST100", f'"failed to parse order ({value})"')
        if not _IDENTIFIER.fullmatch(column):
            raise QueryError(400, "PGRST100", f'"failed to parse order ({value})"')
        terms.append(Order(column, descending, nulls))
    return tuple(terms)


def _parse_filter(column: str, value: str) -> Filter:
    operator, dot, operand = value.partition(".")
    if not _IDENTIFIER.fullmatch(column) or not dot:
        raise QueryError(400, "PGRST100", f'"failed to parse filter ({column}={value})"')
    if operator in _COMPARISONS:
        return Filter(column, operator, (operand,))
    if operator == "is" and operand in _IS_VALUES:
        return Filter(column, operator, (operand,))
    if operator == "in":
        return Filter(column, operator, _parse_list(column, value, operand))
    raise QueryError(400, "PGRST100", f'"failed to parse filter ({column}={value})"')


def _parse_list(column: str, value: str, operand: str) -> tuple[str, ...]:
    """`(1,2,"a,b")`: PostgREST's in-list, where double quotes protect commas."""
    refused = QueryError(400, "PGRST100", f'"failed to parse filter ({column}={value})"')
    if not (operand.startswith("(") and operand.endswith(")")):
        raise refused
    values, current, quoted, escaped = [], [], False, False
    for char in operand[1:-1]:
        if escaped:
            current.append(char)
            escaped = False
        elif quoted and char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            values.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    if quoted or escaped:
        raise refused
    values.append("".join(current).strip())
    if len(values) > MAX_ROWS:
        raise refused
    return tuple(values)


def _non_negative_int(name: str, value: str) -> int:
    if not value.isdigit() or len(value) > 9:
        raise QueryError(400, "PGRST100", f'"failed to parse {name} parameter ({value})"')
    return int(value)


def _identifier(name: str, relation: str, known_columns: frozenset[str] | None) -> str:
    if known_columns is not None and name not in known_columns:
        raise QueryError(400, "42703", f"column {relation}.{name} does not exist")
    if not _IDENTIFIER.fullmatch(name):
        raise QueryError(400, "PGRST100", f"unsupported identifier {name!r}")
    return '"' + name + '"'


def _condition(f: Filter, relation: str, known: frozenset[str], params: dict) -> str:
    column = _identifier(f.column, relation, known)
    if f.operator == "is":
        return f"{column} is {_IS_VALUES[f.values[0]]}"
    names = []
    for value in f.values:
        name = f"p{len(params)}"
        params[name] = value
        names.append(f":{name}")
    if f.operator == "in":
        return f"{column} in ({', '.join(names)})"
    return f"{column} {_COMPARISONS[f.operator]} {names[0]}"


def _order_term(o: Order, relation: str, known: frozenset[str]) -> str:
    term = f"{_identifier(o.column, relation, known)} {'desc' if o.descending else 'asc'}"
    return term + (f" nulls {o.nulls}" if o.nulls else "")
