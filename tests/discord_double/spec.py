"""Validate request bodies against Discord's OpenAPI 3.1 spec (JSON Schema 2020-12)."""

from __future__ import annotations

import functools
import json
import re
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_URI = "urn:discord-api-spec"


class SpecUnavailableWarning(UserWarning):
    """Emitted once when the OpenAPI spec is missing and validation is off."""


def repo_root() -> Path:
    """The directory holding pyproject.toml above this file."""
    for parent in Path(__file__).resolve().parents:
        if (parent / "pyproject.toml").is_file():
            return parent
    raise FileNotFoundError("pyproject.toml not found above tests/discord_double")


def default_spec_path() -> Path:
    """Where the shared (uncommitted) copy of Discord's spec lives, next to the repo."""
    return repo_root().parent / "shared" / "discord-api-spec" / "openapi.json"


@dataclass(frozen=True)
class SpecDeviation:
    """A place where the spec refuses something Discord (per its docs) accepts."""

    where: str
    reason: str
    patch: Callable[[dict[str, Any]], None]


def _widen_snowflake(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    schemas["SnowflakeType"] = {
        "anyOf": [schemas["SnowflakeType"], {"type": "integer", "minimum": 0}]
    }


# Every entry is a genuine false positive; keep the reason so it can be re-checked later.
ALLOW_LIST: tuple[SpecDeviation, ...] = (
    SpecDeviation(
        where="components.schemas.SnowflakeType",
        reason=(
            "The spec types snowflakes as strings only, but Discord accepts integer ids and "
            "discord.py 2.7.1 sends ints (e.g. allowed_mentions.users/roles, "
            "message_reference.message_id)."
        ),
        patch=_widen_snowflake,
    ),
)


@dataclass(frozen=True)
class SpecIssue:
    """One reason the spec refuses a body."""

    path: tuple[str | int, ...]
    message: str
    keyword: str

    def __str__(self) -> str:
        where = "/".join(str(p) for p in self.path) or "<body>"
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class Operation:
    """A spec operation matched for a concrete request."""

    method: str
    template: str
    operation_id: str
    body_pointer: str | None


class SpecValidator:
    """Maps (method, concrete path) to spec operations and validates JSON bodies."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self._spec = spec
        self._registry: Registry[Any] = Registry().with_resource(
            SPEC_URI, Resource.from_contents(spec, default_specification=DRAFT202012)
        )
        self._routes = sorted(self._compile_routes(spec), key=_specificity)
        self._validators: dict[str, jsonschema.protocols.Validator] = {}

    @staticmethod
    def _compile_routes(spec: dict[str, Any]) -> Iterator[tuple[re.Pattern[str], str, str, Any]]:
        for template, item in spec["paths"].items():
            regex = template_regex(template)
            for method, op in item.items():
                if method != "parameters":
                    yield regex, method.upper(), template, op

    def operation(self, method: str, path: str) -> Operation | None:
        """The spec operation for ``method`` on a concrete API path, if the spec has one."""
        for regex, op_method, template, op in self._routes:
            if op_method == method and regex.match(path):
                pointer = _body_pointer(template, method, op)
                return Operation(method, template, op.get("operationId", ""), pointer)
        return None

    def validate(self, op: Operation, body: Any) -> list[SpecIssue]:
        """Reasons the spec refuses ``body`` for ``op`` (empty when accepted)."""
        if op.body_pointer is None:
            return []
        pointer = self._pick_branch(op.body_pointer, body)
        validator = self._validator(pointer)
        return [issue for error in validator.iter_errors(body) for issue in _leaf_issues(error)]

    def validate_schema(self, name: str, value: Any) -> list[SpecIssue]:
        """Reasons the spec's schema ``name`` (``components.schemas``) refuses ``value``: what
        the double answers is held to what Discord describes, as what it is sent is."""
        validator = self._validator(f"/components/schemas/{name}")
        return [issue for error in validator.iter_errors(value) for issue in _leaf_issues(error)]

    def _validator(self, pointer: str) -> jsonschema.protocols.Validator:
        validator = self._validators.get(pointer)
        if validator is None:
            schema = {"$ref": f"{SPEC_URI}#{pointer}"}
            validator = jsonschema.Draft202012Validator(schema, registry=self._registry)
            self._validators[pointer] = validator
        return validator

    def _pick_branch(self, pointer: str, body: Any) -> str:
        """For ``anyOf`` unions discriminated by ``type`` pick the one branch that applies.

        Validating against the whole union would report errors of unrelated branches.
        """
        schema = self._resolve(pointer)
        branches = schema.get("anyOf") or schema.get("oneOf")
        if not branches or not isinstance(body, dict) or "type" not in body:
            return pointer
        for branch in branches:
            ref = branch.get("$ref", "")
            target = self._resolve(ref.removeprefix("#")) if ref.startswith("#") else branch
            allowed = target.get("properties", {}).get("type", {}).get("enum", [])
            if body["type"] in allowed and ref.startswith("#"):
                return str(ref.removeprefix("#"))
        return pointer

    def _resolve(self, pointer: str) -> dict[str, Any]:
        node: Any = self._spec
        for part in pointer.lstrip("/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        if isinstance(node, dict) and "$ref" in node and len(node) == 1:
            return self._resolve(node["$ref"].removeprefix("#"))
        return node if isinstance(node, dict) else {}


def template_regex(template: str) -> re.Pattern[str]:
    """Compile ``/channels/{channel_id}/messages`` into a regex matching concrete paths."""
    parts = ["[^/]+" if part.startswith("{") else re.escape(part) for part in template.split("/")]
    return re.compile("^" + "/".join(parts) + "$")


def _specificity(route: tuple[re.Pattern[str], str, str, Any]) -> tuple[int, int]:
    template = route[2]
    params = template.count("{")
    literals = template.count("/") - params
    return (-literals, params)


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def _body_pointer(template: str, method: str, op: dict[str, Any]) -> str | None:
    content = op.get("requestBody", {}).get("content", {})
    if "application/json" not in content:
        return None
    return (
        f"/paths/{_escape(template)}/{method.lower()}/requestBody/content/application~1json/schema"
    )


def _leaf_issues(error: ValidationError) -> list[SpecIssue]:
    """Descend into union (anyOf/oneOf) errors to the reasons of the branch that was meant."""
    if not error.context:
        return [SpecIssue(tuple(error.absolute_path), _short_message(error), str(error.validator))]
    branches: dict[Any, list[ValidationError]] = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    # "is not of type 'null'" from the nullable branch of a union never is the real reason.
    meant = [errs for errs in branches.values() if not all(map(_is_null_branch, errs))]
    chosen = min(meant or list(branches.values()), key=_branch_rank)
    return [issue for sub in chosen for issue in _leaf_issues(sub)]


def _is_null_branch(error: ValidationError) -> bool:
    return bool(error.validator == "type" and error.validator_value == "null")


def _branch_rank(errors: list[ValidationError]) -> tuple[bool, int]:
    """Prefer the branch whose ``type`` discriminator matched, then the one with fewest errors."""
    wrong_kind = any(e.validator == "enum" and list(e.relative_path) == ["type"] for e in errors)
    return (wrong_kind, len(errors))


def _short_message(error: ValidationError) -> str:
    limits = {
        "maxLength": "Must be {} or fewer in length.",
        "minLength": "Must be {} or more in length.",
        "maxItems": "Must be {} or fewer in length.",
        "minItems": "Must be {} or more in length.",
        "maximum": "int value should be less than or equal to {}.",
        "minimum": "int value should be greater than or equal to {}.",
    }
    template = limits.get(str(error.validator))
    if template is not None:
        return template.format(error.validator_value)
    message = str(error.message)
    return message if len(message) <= 200 else message[:197] + "..."


_ERROR_CODES = {
    "maxLength": "BASE_TYPE_MAX_LENGTH",
    "minLength": "BASE_TYPE_MIN_LENGTH",
    "maxItems": "BASE_TYPE_MAX_LENGTH",
    "minItems": "BASE_TYPE_MIN_LENGTH",
    "required": "BASE_TYPE_REQUIRED",
    "type": "MODEL_TYPE_CONVERT",
    "enum": "BASE_TYPE_CHOICES",
    "maximum": "NUMBER_TYPE_MAX",
    "minimum": "NUMBER_TYPE_MIN",
}


def discord_error_body(issues: list[SpecIssue]) -> dict[str, Any]:
    """The 400 body Discord sends for an invalid form (code 50035)."""
    errors: dict[str, Any] = {}
    for issue in issues:
        node = errors
        for part in issue.path:
            node = node.setdefault(str(part), {})
        code = _ERROR_CODES.get(issue.keyword, "BASE_TYPE_INVALID")
        node.setdefault("_errors", []).append({"code": code, "message": issue.message})
    return {"code": 50035, "message": "Invalid Form Body", "errors": errors}


_warned = False


def _warn_missing(path: Path) -> None:
    global _warned
    if not _warned:
        _warned = True
        warnings.warn(
            f"Discord OpenAPI spec not found at {path}: request bodies are NOT validated",
            SpecUnavailableWarning,
            stacklevel=3,
        )


@functools.cache
def _load(path: Path) -> SpecValidator:
    spec = json.loads(path.read_text(encoding="utf-8"))
    for deviation in ALLOW_LIST:
        deviation.patch(spec)
    return SpecValidator(spec)


def load_spec_validator(path: Path | None = None) -> SpecValidator | None:
    """The session-wide validator, or None (with a one-time warning) when the spec is absent."""
    path = path or default_spec_path()
    if not path.is_file():
        _warn_missing(path)
        return None
    return _load(path)
