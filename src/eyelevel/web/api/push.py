"""Web push for customers: the server's public VAPID key, and the customer's devices that
receive notifications (docs/privacy.md, *Web push*). Subscriptions are the customer's own:
agents and API tokens get ``403``; another customer's device reads like a missing one."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Response, status
from pydantic import Field

from eyelevel.core.actions import push
from eyelevel.core.actions.push import DeviceView
from eyelevel.core.push import MAX_LABEL, PushSubscriptionId
from eyelevel.web.auth import CurrentPrincipal, Svc
from eyelevel.web.schemas import ERRORS, In, Out, problem_response

router = APIRouter(prefix="/api/v1", tags=["push"], responses=ERRORS)
SubscriptionPath = Annotated[int, Path(ge=1, le=2**62, description="push subscription id")]
EXAMPLE_P256DH = (
    "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM"
)


class PushKeyOut(Out):
    public_key: str = Field(
        description="the server's VAPID public key (base64url, 65 bytes uncompressed P-256): "
        "pushManager.subscribe's applicationServerKey",
        examples=[EXAMPLE_P256DH],
    )


class PushKeysIn(In):
    p256dh: str = Field(
        max_length=100,
        description="the browser's P-256 public key, base64url",
        examples=[EXAMPLE_P256DH],
    )
    auth: str = Field(
        max_length=40,
        description="the browser's 16-byte auth secret, base64url",
        examples=["tBHItJI5svbpez7KI4CCXg"],
    )


class PushSubscriptionIn(In):
    """``PushSubscription.toJSON()``'s endpoint and keys, with a name for the device."""

    endpoint: str = Field(
        max_length=2100,
        description="the push service's URL for this browser (https)",
        examples=["https://updates.push.services.mozilla.com/wpush/v2/gAAAAABh"],
    )
    keys: PushKeysIn
    label: str = Field(
        default="",
        max_length=200,
        description=f"the customer's name for the device (≤ {MAX_LABEL} characters kept)",
        examples=["Firefox on Linux"],
    )
    lang: Literal["en", "de"] = Field(
        default="en", description="the language of the notifications' generic text"
    )


class PushSubscriptionOut(Out):
    id: int
    endpoint: str
    label: str
    lang: Literal["en", "de"]
    created_at: datetime
    last_success_at: datetime | None = Field(description="when a notification last got through")

    @classmethod
    def of(cls, v: DeviceView) -> PushSubscriptionOut:
        return cls(
            id=v.id,
            endpoint=v.endpoint,
            label=v.label,
            lang="de" if v.lang == "de" else "en",
            created_at=v.created_at,
            last_success_at=v.last_success_at,
        )


@router.get("/push/key", summary="The server's VAPID public key (web push)")
async def push_key(svc: Svc) -> PushKeyOut:
    """Public: a browser needs it to subscribe (``applicationServerKey``)."""
    return PushKeyOut(public_key=await push.public_key(svc.ctx))


@router.post(
    "/me/push-subscriptions",
    status_code=status.HTTP_201_CREATED,
    summary="Receive notifications on this device (customers)",
    responses={
        200: {"model": PushSubscriptionOut, "description": "the device was subscribed already"},
        409: problem_response("the same endpoint was subscribed at the same moment (conflict)"),
        422: problem_response(
            "malformed keys or endpoint, not https (validation_error), or an endpoint whose "
            "host is a private, loopback or otherwise non-public address "
            "(push_endpoint_forbidden)"
        ),
    },
)
async def subscribe(
    body: PushSubscriptionIn, svc: Svc, principal: CurrentPrincipal, response: Response
) -> PushSubscriptionOut:
    """Idempotent per endpoint: the same endpoint again updates its keys, label and language."""
    view, created = await push.check_subscribe(
        svc.ctx,
        principal,
        endpoint=body.endpoint,
        p256dh=body.keys.p256dh,
        auth=body.keys.auth,
        label=body.label,
        lang=body.lang,
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return PushSubscriptionOut.of(view)


@router.get("/me/push-subscriptions", summary="My devices that receive notifications (customers)")
async def list_subscriptions(svc: Svc, principal: CurrentPrincipal) -> list[PushSubscriptionOut]:
    return [PushSubscriptionOut.of(v) for v in await push.my_devices(svc.ctx, principal)]


@router.delete(
    "/me/push-subscriptions/{subscription_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Stop notifications on a device (customers)",
)
async def unsubscribe(
    subscription_id: SubscriptionPath, svc: Svc, principal: CurrentPrincipal
) -> None:
    await push.check_unsubscribe(svc.ctx, principal, PushSubscriptionId(subscription_id))
