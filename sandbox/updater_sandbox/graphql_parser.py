"""GitHub GraphQL's language, as much of it as the forge needs: a small parser for queries and
mutations (aliases, arguments, variables, inline fragments; directives accepted and ignored) and the
executor that walks a selection over resolved objects. No resolvers and no state here: the forge's
answers are `updater_sandbox.graphql` (pull requests, auto-merge) and `updater_sandbox.graphql_commits`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

_TOKEN = re.compile(r'\s*(?:(#[^\n]*)|("(?:[^"\\]|\\.)*")|(\.\.\.)|([{}()\[\]:$!=@,|&])|(-?\d+(?:\.\d+)?)|(\w+))')


class GraphQLError(Exception):
    def __init__(self, message: str, kind: str = "UNPROCESSABLE") -> None:
        super().__init__(message)
        self.kind = kind


@dataclass
class Field:
    name: str
    alias: str
    args: dict[str, Any] = field(default_factory=dict)
    selections: list[Field] | None = None


class Parser:
    def __init__(self, text: str, variables: dict[str, Any]) -> None:
        self.tokens = [t for t in self._lex(text) if not t.startswith("#") and t != ","]
        self.pos = 0
        self.variables = variables

    @staticmethod
    def _lex(text: str) -> list[str]:
        tokens, pos = [], 0
        text = text.rstrip()
        while pos < len(text):
            match = _TOKEN.match(text, pos)
            if not match or match.end() == pos:
                raise GraphQLError(f"Parse error on {text[pos:pos + 10]!r}", "PARSE")
            tokens.append(match.group().strip())
            pos = match.end()
        return tokens

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            raise GraphQLError(f"Parse error: expected {expected or 'more'}, got {token!r}", "PARSE")
        self.pos += 1
        return token

    def document(self) -> tuple[str, list[Field]]:
        kind = "query"
        if self.peek() in ("query", "mutation"):
            kind = self.take()
            if self.peek() not in ("{", "("):
                self.take()  # operation name
            if self.peek() == "(":
                depth = 0
                while True:  # variable definitions: their values arrive in `variables`
                    token = self.take()
                    depth += token == "("
                    depth -= token == ")"
                    if depth == 0:
                        break
        return kind, self.selection_set()

    def selection_set(self) -> list[Field]:
        self.take("{")
        fields: list[Field] = []
        while self.peek() != "}":
            if self.peek() == "...":
                self.take()
                if self.peek() == "on":
                    self.take()
                    self.take()
                fields += self.selection_set()
                continue
            name = self.take()
            alias = name
            if self.peek() == ":":
                self.take()
                name = self.take()
            args = self.arguments() if self.peek() == "(" else {}
            while self.peek() == "@":  # directives are accepted and ignored
                self.take()
                self.take()
                if self.peek() == "(":
                    self.arguments()
            sub = self.selection_set() if self.peek() == "{" else None
            fields.append(Field(name, alias, args, sub))
        self.take("}")
        return fields

    def arguments(self) -> dict[str, Any]:
        self.take("(")
        args = {}
        while self.peek() != ")":
            name = self.take()
            self.take(":")
            args[name] = self.value()
        self.take(")")
        return args

    def value(self) -> Any:
        token = self.take()
        if token == "$":
            return self.variables.get(self.take())
        if token.startswith('"'):
            return json.loads(token)  # GraphQL's string escapes are JSON's
        if token == "[":
            items = []
            while self.peek() != "]":
                items.append(self.value())
            self.take("]")
            return items
        if token == "{":
            obj = {}
            while self.peek() != "}":
                key = self.take()
                self.take(":")
                obj[key] = self.value()
            self.take("}")
            return obj
        if re.fullmatch(r"-?\d+", token):
            return int(token)
        if re.fullmatch(r"-?\d+\.\d+", token):
            return float(token)
        return {"true": True, "false": False, "null": None}.get(token, token)  # enums stay strings


Resolved = dict[str, Any]  # field name -> value or callable(args) -> value


def execute(fields: list[Field], obj: Resolved, path: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields:
        if f.name == "__typename":
            out[f.alias] = obj.get("__typename")
            continue
        if f.name not in obj:
            raise GraphQLError(f"Field '{f.name}' doesn't exist on type '{obj.get('__typename', 'Query')}'",
                               "undefinedField")
        value = obj[f.name]
        if callable(value):
            value = value(f.args)
        if f.selections is not None and value is not None:
            if isinstance(value, list):
                value = [execute(f.selections, v, path + [f.alias]) for v in value]
            else:
                value = execute(f.selections, value, path + [f.alias])
        out[f.alias] = value
    return out
