"""Keyfactor's list endpoints: per-endpoint query prefix (`pq.`, `sq.`, `query.`, `pagedQuery.`,
`certificateStoreQuery.`…), paging, sorting and the query language ("Field -eq value AND …"), as far as the
suite's checks and self-tests need them.

Each endpoint reads only ITS prefix: ASP.NET's model binding ignores names it does not know, so a client with
the wrong prefix sees the default first page again and again. Every answer carries `X-Total-Count`, the number of
items the query matches on all pages (10.2.1/10.4 send it: keyfactor-api-notes, "Evidence added 2026-12-01");
`python -m sandbox --total-count` omits or falsifies it (sandbox/api.py).
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .api import TOTAL_COUNT, error
from .web import Request, Response, json_response

DEFAULT_PAGE = 50


class QueryError(ValueError):
    pass


_CLAUSE = re.compile(r'^\s*(\w+)\s+-(\w+)\s*(?:"([^"]*)"|(\S+))?\s*$')


@dataclass
class Listing:
    """One list endpoint: its prefix, its query fields, its sort fields, its default sort."""

    prefix: str
    items: Callable[[], Sequence[Any]]
    render: Callable[[Any], dict[str, Any]]
    fields: dict[str, Callable[[Any], Any]]  # query/sort field (case-insensitive) -> value of an item
    default_sort: str

    def answer(self, request: Request) -> Response:
        try:
            page = self._int(request, "pageReturned", 1)
            limit = self._int(request, "returnLimit", DEFAULT_PAGE)
            descending = self._int(request, "sortAscending", 0)
            if descending not in (0, 1):
                raise QueryError(f"The value '{descending}' is not valid for {self.prefix}sortAscending.")
            sort = self._field(request.param(self.prefix + "sortField") or self.default_sort)
            matches = self._filter(list(self.items()), request.param(self.prefix + "queryString") or "")
        except QueryError as exc:
            return error(400, "0xA0110001", str(exc))
        if sort is not self.fields[self.default_sort.lower()] or descending:
            matches.sort(key=lambda item: _sortable(sort(item)), reverse=bool(descending))
        page, limit = max(page, 1), limit if limit > 0 else DEFAULT_PAGE
        chosen = matches[(page - 1) * limit: page * limit]
        return json_response(200, [self.render(item) for item in chosen], [(TOTAL_COUNT, str(len(matches)))])

    def _int(self, request: Request, name: str, default: int) -> int:
        text = request.param(self.prefix + name)
        if text is None or text == "":
            return default
        try:
            return int(text)
        except ValueError:
            raise QueryError(f"The value '{text}' is not valid for {self.prefix}{name}.") from None

    def _field(self, name: str) -> Callable[[Any], Any]:
        found = self.fields.get(name.lower())
        if found is None:
            raise QueryError(f"'{name}' is not a valid field; valid fields: {', '.join(sorted(self.fields))}.")
        return found

    def _filter(self, items: list[Any], query: str) -> list[Any]:
        for clause in re.split(r"\s+AND\s+", query.strip(), flags=re.I) if query.strip() else []:
            found = _CLAUSE.match(clause)
            if not found:
                raise QueryError(f"The query '{query}' could not be parsed near '{clause}'.")
            name, operator, quoted, bare = found.groups()
            value = quoted if quoted is not None else (bare or "")
            getter, test = self._field(name), _operator(operator.lower(), value)
            items = [item for item in items if test(getter(item))]
        return items


def _sortable(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, "")
    return (1, value.casefold() if isinstance(value, str) else value)


def _operator(name: str, value: str) -> Callable[[Any], bool]:
    def same(have: Any) -> bool:
        if isinstance(have, bool):
            return str(have).lower() == value.lower()
        if isinstance(have, int):
            return str(have) == value
        return str(have if have is not None else "").casefold() == value.casefold()

    @functools.cache
    def moment() -> dt.datetime:  # parsed once per query, not once per item (job histories hold 100,000s)
        try:
            return dt.datetime.fromisoformat(value.rstrip("Zz"))
        except ValueError:
            raise QueryError(f"'{value}' is not a date.") from None

    def ordered(have: Any) -> Any:
        if isinstance(have, dt.datetime):
            return have, moment()
        if isinstance(have, int) and not isinstance(have, bool):
            try:
                return have, int(value)
            except ValueError:
                raise QueryError(f"'{value}' is not a number.") from None
        return str(have or "").casefold(), value.casefold()

    tests: dict[str, Callable[[Any], bool]] = {
        "eq": same,
        "ne": lambda have: not same(have),
        "contains": lambda have: value.casefold() in str(have or "").casefold(),
        "notcontains": lambda have: value.casefold() not in str(have or "").casefold(),
        "startswith": lambda have: str(have or "").casefold().startswith(value.casefold()),
        "endswith": lambda have: str(have or "").casefold().endswith(value.casefold()),
        **{code: _compared(compare, ordered) for code, compare in _ORDERINGS.items()},
    }
    if name not in tests:
        raise QueryError(f"The operator '-{name}' is not supported.")
    return tests[name]


_ORDERINGS: dict[str, Callable[[Any, Any], bool]] = {"gt": operator.gt, "ge": operator.ge, "lt": operator.lt,
                                                     "le": operator.le}


def _compared(compare: Callable[[Any, Any], bool], ordered: Callable[[Any], Any]) -> Callable[[Any], bool]:
    def test(have: Any) -> bool:
        return compare(*ordered(have))

    return test
