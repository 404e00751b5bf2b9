"""``wallaroo.object``: the SDK's common exceptions.

``InferenceError`` lives here only in the 2023.2 profile; the newest SDK moved it to
``wallaroo.exceptions`` (same class object in both places, so ``except`` works either way).
"""

from __future__ import annotations

from typing import Any


class EntityNotFoundError(Exception):
    """An entity the server was asked for does not exist: ``"{type} not found: {params}"``."""

    def __init__(self, entity_type: str, params: dict[str, Any]) -> None:
        super().__init__(f"{entity_type} not found: {params}")
        self.entity_type = entity_type
        self.params = params


class RequiredAttributeMissing(Exception):
    """A server response lacked a required attribute: ``"{class}: Missing required attribute '{attr}' in response"``."""

    def __init__(self, class_name: str, attribute_name: str) -> None:
        super().__init__(f"{class_name}: Missing required attribute '{attribute_name}' in response")
        self.class_name = class_name
        self.attribute_name = attribute_name


class InvalidNameError(Exception):
    """A name failed the SDK's DNS-compliance check."""

    def __init__(self, name: str, requirement: str) -> None:
        super().__init__(f"Name '{name}' is invalid: {requirement}")
        self.name = name
        self.requirement = requirement


class CommunicationError(Exception):
    """The platform could not be reached."""


class LimitError(Exception):
    """A licence or resource limit was hit."""


class DeploymentError(Exception):
    """A deployment could not be created or changed."""


class ModelUploadError(Exception):
    """A model file was rejected at upload."""

    def __init__(self, reason: object) -> None:
        super().__init__(f"Model failed to upload: {reason}")


class ModelConversionError(Exception):
    """Model conversion ended in ``error``."""


DNS_REQUIREMENT = "must be DNS-compatible (ASCII alpha-numeric characters or dash (-) only)"


def require_dns_compliance(name: str) -> None:
    from emulator.wallaroo.backend import dns_compliant

    if not dns_compliant(name):
        raise InvalidNameError(name, DNS_REQUIREMENT)


def __getattr__(name: str) -> Any:
    if name == "InferenceError":
        from emulator.wallaroo import profiles

        if not profiles.current().newest:
            from emulator.wallaroo.sdk.exceptions import InferenceError

            return InferenceError
    raise AttributeError(f"module 'wallaroo.object' has no attribute '{name}'")
