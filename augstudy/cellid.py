"""A cell's content address, defined once: what ``CellConfig.cell_id`` computes and the store verifies.

The id is the sha256 (16 hex digits) of the canonical config (without the execution details of
:data:`EXECUTION_KEYS`: ``training.threads``, ``dataset.stream`` ...) plus the *basis* of the hash: the training code's version and, for a cell that
runs on a non-CPU device, that device's kind and precision. ``config.json`` records the basis next
to the config, so any machine can check that a stored cell's folder, recorded id and config agree.
Pure (json + hashlib): the report may use it without importing the training code.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any, Optional

#: Keys the store adds to a cell's ``config.json`` beside the config (not hashed).
RECORD_KEYS = ("cell_id", "labels", "id_basis")

#: Execution details, not part of what is computed (the same numbers either way): never hashed.
EXECUTION_KEYS = {"training": ("threads",), "dataset": ("stream", "memory_budget", "loader_workers")}


def content_id(config: dict[str, Any], code: str, device: Optional[dict[str, Any]] = None) -> str:
    """The id of ``config`` (a canonical config dict) hashed with training code ``code`` on ``device``."""
    config = json.loads(json.dumps(config))  # a copy, JSON-typed
    for section, keys in EXECUTION_KEYS.items():
        for key in keys:
            config.get(section, {}).pop(key, None)
    body: dict[str, Any] = {"config": config, "code": code}
    if device is not None:
        body["device"] = device
    payload = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def recorded_config_id(record: dict[str, Any]) -> Optional[str]:
    """The id that a ``config.json`` record's config hashes to under its recorded basis (None: no basis recorded)."""
    basis = record.get("id_basis")
    if not isinstance(basis, dict) or not isinstance(basis.get("code"), str):
        return None
    config = {k: v for k, v in record.items() if k not in RECORD_KEYS}
    device = basis.get("device")
    return content_id(config, basis["code"], device if isinstance(device, dict) else None)
