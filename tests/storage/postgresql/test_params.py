"""Named parameters bound for asyncpg: the statements both engines share."""

from __future__ import annotations

import pytest

from storage.postgresql.params import bind, numbered


def test_each_name_becomes_one_numbered_typed_parameter():
    sql, args = bind(
        "SELECT :a, x::bigint, :b, ' · ', :a IS NULL, :c",
        {"a": 7, "b": "text", "c": None, "unused": 1},
        {"c": "bigint[]"},
    )
    assert sql == "SELECT $1::bigint, x::bigint, $2::text, ' · ', $1::bigint IS NULL, $3::bigint[]"
    assert args == [7, "text", None]


def test_a_missing_value_or_a_value_of_no_known_type_is_named():
    with pytest.raises(KeyError, match=":guild"):
        bind("SELECT :guild", {})
    with pytest.raises(TypeError, match=r":at is 1\.5: give its SQL type"):
        bind("SELECT :at", {"at": 1.5})


def test_an_untyped_none_is_left_to_the_server_to_infer():
    sql, args = bind("UPDATE t SET a = :a WHERE id = :id", {"a": None, "id": 3})
    assert sql == "UPDATE t SET a = $1 WHERE id = $2::bigint"
    assert args == [None, 3]


def test_question_marks_become_numbered_in_order():
    statement = "SELECT x FROM t WHERE a = ? AND b IS NOT DISTINCT FROM ? LIMIT ?"
    assert numbered(statement) == (
        "SELECT x FROM t WHERE a = $1 AND b IS NOT DISTINCT FROM $2 LIMIT $3"
    )
