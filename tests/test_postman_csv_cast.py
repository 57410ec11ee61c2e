"""CSV iteration data: unquoted numbers become numbers, quoted cells stay text (as Newman's csv-parse cast)."""

from __future__ import annotations

from pathlib import Path

from o365check.postman.loading import load_iteration_data


def test_unquoted_numbers_are_cast_and_quoted_cells_stay_text(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text('a,b,c,d\n7890,"00123",-4, 2.5 \n"1e3",1e3,x1,""\n', encoding="utf-8")
    rows = load_iteration_data(path)
    assert rows == [{"a": 7890, "b": "00123", "c": -4, "d": 2.5}, {"a": "1e3", "b": 1000.0, "c": "x1", "d": ""}]


def test_quotes_inside_cells_and_escaped_quotes_keep_the_cast_aligned(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text('name,n,q\nAbhijit "KDOS" Kane,5,"say ""hi"", 6"\n\n"x, y",7,8\n', encoding="utf-8")
    assert load_iteration_data(path) == [
        {"name": 'Abhijit "KDOS" Kane', "n": 5, "q": 'say "hi", 6'},
        {"name": "x, y", "n": 7, "q": 8},
    ]
