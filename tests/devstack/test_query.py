"""The PostgREST query subset as pure functions: parsing and the SQL it becomes (no I/O)."""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devstack.gateway import query

COLUMNS = frozenset({"id", "name", "stock", "price_cents"})


def test_a_typical_supabase_js_query():
    parsed = query.parse(
        [
            ("select", "id,name"),
            ("stock", "gt.0"),
            ("id", "in.(1,2,3)"),
            ("order", "name.desc.nullslast,id"),
            ("limit", "10"),
            ("offset", "20"),
        ]
    )
    sql, params = query.to_sql("products", parsed, COLUMNS, single=False)
    assert sql == (
        "select coalesce(json_agg(_t), '[]'::json)::text, count(*) from ("
        'select "id", "name" from public."products"'
        ' where "stock" > :p0 and "id" in (:p1, :p2, :p3)'
        ' order by "name" desc nulls last, "id" asc limit :_limit offset :_offset) _t'
    )
    assert params == {"p0": "0", "p1": "1", "p2": "2", "p3": "3", "_limit": 10, "_offset": 20}


def test_limit_is_capped_and_is_filters_take_no_parameter():
    parsed = query.parse([("stock", "is.null"), ("limit", "5000")])
    sql, params = query.to_sql("products", parsed, COLUMNS, single=True)
    assert '"stock" is null' in sql and "(json_agg(_t) -> 0)::text" in sql
    assert params == {"_limit": query.MAX_ROWS, "_offset": 0}


def test_in_lists_keep_quoted_commas_and_escapes():
    parsed = query.parse([("name", 'in.("a,b",c, "d\\"e")')])
    assert parsed.filters[0].values == ("a,b", "c", 'd"e')


@pytest.mark.parametrize(
    "args, status, code",
    [
        ([("select", "nope")], 400, "42703"),
        ([("nope", "eq.1")], 400, "42703"),
        ([("select", "id;drop table x")], 400, "PGRST100"),
        ([("id", "eq")], 400, "PGRST100"),
        ([("id", "is.maybe")], 400, "PGRST100"),
        ([("order", "id.sideways")], 400, "PGRST100"),
        ([("limit", "1e3")], 400, "PGRST100"),
    ],
)
def test_refusals(args, status, code):
    with pytest.raises(query.QueryError) as refused:
        query.to_sql("products", query.parse(args), COLUMNS, single=False)
    assert (refused.value.status, refused.value.code) == (status, code)


_anything = st.text(max_size=30)
_keys = st.one_of(
    st.sampled_from(["select", "order", "limit", "offset", *COLUMNS, "nope"]), _anything
)
_values = st.one_of(
    _anything,
    st.builds("".join, st.lists(st.sampled_from([*COLUMNS, ",", ".", "desc", "*", '"', ";"]))),
    st.builds(
        lambda op, v: f"{op}.{v}", st.sampled_from(["eq", "gt", "in", "is", "lt"]), _anything
    ),
    st.builds(lambda v: f"in.({v})", _anything),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_keys, _values), max_size=5))
def test_any_query_string_is_refused_or_becomes_safe_sql(args):
    """Whatever arrives, the SQL names only known columns and carries every value as a parameter."""
    try:
        sql, params = query.to_sql("products", query.parse(args), COLUMNS, single=False)
    except query.QueryError:
        return
    assert set(re.findall(r'"([^"]*)"', sql)) <= COLUMNS | {"products"}
    without_identifiers = re.sub(r'"[^"]*"', "", sql)
    assert "'" not in without_identifiers.replace("'[]'::json", "")
    assert ";" not in sql and "--" not in sql
    for value in params.values():
        assert isinstance(value, (str, int))
