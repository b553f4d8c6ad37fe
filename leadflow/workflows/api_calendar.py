"""API for workflow settings (admin only)."""

from ninja import Router

router = Router(tags=["workflow settings"])
