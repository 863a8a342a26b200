"""Reading SCIM messages with scim2-models, and applying PATCH, with their errors as ours."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

from pydantic import ValidationError
from scim2_models import Context, PatchOp, Resource, SCIMException

from tessera.scim.errors import scim_error_for, scim_error_from_validation
from tessera.scim.resources import POLICY

ResourceT = TypeVar("ResourceT", bound=Resource[Any])


@contextmanager
def scim_errors() -> Iterator[None]:
    """scim2-models' exceptions and validation errors, raised as tessera.scim.errors."""
    try:
        yield
    except SCIMException as exc:
        raise scim_error_for(
            scim_type=exc.scim_type, detail=exc.detail, status=exc.status
        ) from None
    except ValidationError as exc:
        raise scim_error_from_validation(exc) from None


def resource_read(model: type[ResourceT], body: Mapping[str, Any], context: Context) -> ResourceT:
    """A request body as `model` under the rules of `context` (creation, replacement)."""
    with scim_errors():
        return model.model_validate(dict(body), scim_ctx=context, scim_policy=POLICY)


def patch_apply(
    model: type[ResourceT], body: Mapping[str, Any], current: Mapping[str, Any]
) -> ResourceT:
    """The resource `current` (as served) after the PATCH message `body`: all operations apply,
    or the first that cannot raises and none is kept."""
    with scim_errors():
        patch = PatchOp[model].model_validate(  # type: ignore[valid-type]
            dict(body), scim_ctx=Context.RESOURCE_PATCH_REQUEST, scim_policy=POLICY
        )
        resource = model.model_validate(dict(current))
        with POLICY:
            patch.patch(resource)
    return resource
