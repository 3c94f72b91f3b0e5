"""Form data checked against the JSON Schema zufi publishes for the service."""

import json
from collections.abc import Hashable, Iterable
from typing import Any

import jsonschema
from jsonschema.exceptions import SchemaError, ValidationError

from ozg_common.problems import InvalidParam


class FormSchemas:
    """Compiled validators, one per version of a service's form (compiling costs more than
    validating).

    A version is what the caller names it by (the catalogue row's key and `updated_at`); its
    validator is reused only while the schema, as stored (JSON text), also still equals the one it
    was compiled from. Comparing two strings costs a fraction of decoding one.
    """

    def __init__(self, capacity: int = 1000) -> None:
        self.capacity = capacity
        self._validators: dict[Hashable, tuple[str, Any]] = {}

    def _validator(self, version: Hashable, schema: str) -> Any:
        """None: the schema is empty, there is nothing to check."""
        cached = self._validators.get(version)
        if cached is not None and cached[0] == schema:
            return cached[1]
        decoded = json.loads(schema)
        validator = None
        if decoded:
            cls = jsonschema.validators.validator_for(decoded)
            cls.check_schema(decoded)
            validator = cls(decoded, format_checker=cls.FORMAT_CHECKER)
        if len(self._validators) >= self.capacity:
            self._validators.clear()
        self._validators[version] = (schema, validator)
        return validator

    def problems(self, version: Hashable, schema: str, data: Any) -> list[InvalidParam]:
        """The failing fields of `data` for the form `schema` (JSON text, known as `version`),
        named `formData.<path>`; empty when the data conforms or the schema is empty.

        A schema that is itself broken is a catalogue error: raises SchemaError.
        """
        validator = self._validator(version, schema)
        if validator is None:
            return []
        errors: Iterable[ValidationError] = validator.iter_errors(data)
        return [
            InvalidParam(
                name=".".join(["formData", *(str(p) for p in error.absolute_path)]),
                reason=error.message,
            )
            for error in sorted(errors, key=lambda e: list(map(str, e.absolute_path)))[:50]
        ]


__all__ = ["FormSchemas", "SchemaError"]
