"""Form data checked against the JSON Schema zufi publishes for the service."""

import json
from collections.abc import Iterable
from typing import Any

import jsonschema
from jsonschema.exceptions import SchemaError, ValidationError

from ozg_common.problems import InvalidParam


class FormSchemas:
    """Compiled validators, one per distinct schema (compiling costs more than validating)."""

    def __init__(self, capacity: int = 1000) -> None:
        self.capacity = capacity
        self._validators: dict[str, Any] = {}

    def _validator(self, schema: dict[str, Any]) -> Any:
        cache_key = json.dumps(schema, sort_keys=True, separators=(",", ":"))
        validator = self._validators.get(cache_key)
        if validator is None:
            cls = jsonschema.validators.validator_for(schema)
            cls.check_schema(schema)
            validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
            if len(self._validators) >= self.capacity:
                self._validators.clear()
            self._validators[cache_key] = validator
        return validator

    def problems(self, schema: dict[str, Any], data: Any) -> list[InvalidParam]:
        """The failing fields, named `formData.<path>`; empty when the data conforms.

        A schema that is itself broken is a catalogue error: raises SchemaError.
        """
        errors: Iterable[ValidationError] = self._validator(schema).iter_errors(data)
        return [
            InvalidParam(
                name=".".join(["formData", *(str(p) for p in error.absolute_path)]),
                reason=error.message,
            )
            for error in sorted(errors, key=lambda e: list(map(str, e.absolute_path)))[:50]
        ]


__all__ = ["FormSchemas", "SchemaError"]
