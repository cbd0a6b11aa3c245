"""The fully resolved configuration of one cell: everything a training run depends on.

A cell is a pure function of this config; its id (``cell_id``) is the hash of the config plus
the training code's version, which gives resume, caching and distribution for free.
"""
from __future__ import annotations

from typing import Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

#: Bump when a change to the training or evaluation code changes results: old cells are recomputed.
TRAIN_CODE_VERSION = "2"

OpSpec = Union[str, dict[str, Any]]


#: Bounds checked at spec load (a value past them is a typo, not a study): seeds fit in 63 bits.
MAX_EPOCHS = 100_000
MAX_BATCH_SIZE = 1_000_000
MAX_SEED = 2**63 - 1
DEVICE_PATTERN = r"^(auto|cpu|mps|cuda(:[0-9]+)?)$"

#: ``training.compile``: false/none (eager), true/default, or a ``torch.compile`` mode.
CompileMode = Literal["none", "default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs"]

#: Fields added after cells had been computed: hashed into the cell id only when set away from these
#: defaults, so every earlier cell keeps its id (a new field's default must leave the numbers as they were).
ID_NEUTRAL_DEFAULTS: dict[str, dict[str, Any]] = {
    "training": {"deterministic": False},
    "dataset": {"stream": "auto", "memory_budget": None, "loader_workers": None},
}

_BYTE_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
               "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DatasetConfig(_Strict):
    """A registered dataset by name, with its params (``augstudy.data.load(name, **params)``).

    ``stream``: ``auto`` streams the training and test images from disk (``augstudy.data.streaming``)
    when the decoded dataset would exceed ``memory_budget`` (bytes, or a string such as ``"8GB"`` or
    ``"512MiB"``; default a quarter of the memory available when the cell starts); ``true`` always
    streams (datasets that can: ``imagefolder``), ``false`` never. ``loader_workers``: DataLoader worker
    processes that decode while streaming (default up to 4). The three are execution details: they leave
    the numbers as they are, so they are not part of the cell id.
    """

    name: str = "synthetic"
    params: dict[str, Any] = Field(default_factory=dict)
    stream: Union[bool, Literal["auto"]] = "auto"
    memory_budget: Optional[int] = Field(None, ge=1)
    loader_workers: Optional[int] = Field(None, ge=0, le=64)

    @field_validator("memory_budget", mode="before")
    @classmethod
    def _bytes(cls, v: Any) -> Any:
        """``"8GB"`` (10^9), ``"512MiB"`` (2^20), ``"1.5 GB"`` or a number of bytes."""
        if isinstance(v, str):
            import re

            m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]*)?)\s*([A-Za-z]*)\s*", v)
            if not m or m.group(2).lower() not in _BYTE_UNITS:
                raise ValueError(f"memory_budget {v!r} must be a number of bytes or a size such as '8GB' or '512MiB'")
            return int(float(m.group(1)) * _BYTE_UNITS[m.group(2).lower()])
        return v


class ModelConfig(_Strict):
    """Encoder f (by registry name) and projection head g (2-layer MLP, hidden = dim of h)."""

    encoder: str = "resnet-tiny"
    encoder_params: dict[str, Any] = Field(default_factory=dict)
    projection_dim: int = Field(128, ge=1)


class TrainingConfig(_Strict):
    """Optimisation schedule: linear warmup then cosine decay; lr scaled by batch/256 if ``scale_lr``."""

    epochs: int = Field(20, ge=1, le=MAX_EPOCHS)
    batch_size: int = Field(256, ge=2, le=MAX_BATCH_SIZE)
    optimizer: Literal["lars", "sgd", "adamw"] = "adamw"
    lr: float = Field(2e-3, gt=0)
    scale_lr: bool = False
    momentum: float = Field(0.9, ge=0, lt=1)
    weight_decay: float = Field(1e-6, ge=0)
    warmup_epochs: float = Field(1.0, ge=0)
    temperature: float = Field(0.2, gt=0)
    device: str = Field("auto", pattern=DEVICE_PATTERN)  # auto | cpu | cuda | cuda:N | mps
    threads: Optional[int] = Field(None, ge=1)  # CPU threads for this cell (None: torch default)
    bf16: bool = True  # bf16 autocast on CUDA
    cpu_bf16: bool = False  # bf16 autocast on the CPU too (fast with AVX512-BF16/AMX, slow without)
    channels_last: bool = True  # NHWC activations, on CUDA and the CPU (about 1.5x faster there too)
    #: torch.compile the loss (model + loss): false | true | a mode (none, default, reduce-overhead, max-autotune,
    #: max-autotune-no-cudagraphs); a model that fails to compile runs eagerly, saying once why.
    compile: Union[bool, CompileMode] = False
    #: opt-in determinism on CUDA: cudnn.deterministic, no cudnn.benchmark, use_deterministic_algorithms.
    deterministic: bool = False

    @field_validator("compile")
    @classmethod
    def _compile_mode(cls, v: Union[bool, str]) -> Union[bool, str]:
        """``none`` is false and ``default`` is true, so that the spellings of one setting share a cell id."""
        return {"none": False, "default": True}.get(v, v) if isinstance(v, str) else v


class ProtocolConfig(_Strict):
    """How the two views are made.

    ``asymmetric`` (the paper's Figure 5): each image gets ``base_crop`` once (null switches it off),
    shared by both views; the study's pipeline then goes to the first view only, the second view
    stays that crop (the identity). ``symmetric``: each view draws its own crop and pipeline.
    A cell with per-view pipelines (``CellConfig.view2``, BYOL's T and T') keeps the protocol's crop
    (shared or per view) and gives the second view its own pipeline.
    """

    name: Literal["asymmetric", "symmetric"] = "asymmetric"
    base_crop: Optional[OpSpec] = "crop"


class EvaluationConfig(_Strict):
    """Frozen-encoder evaluation: linear probe (L-BFGS logistic regression) and weighted kNN."""

    linear: bool = True
    linear_l2: float = Field(1e-4, ge=0)
    linear_max_iter: int = Field(200, ge=1)
    knn: bool = True
    knn_k: int = Field(200, ge=1)
    knn_temperature: float = Field(0.1, gt=0)
    on_projection: bool = False  # also probe z = g(h)


class ValidationSplit(_Strict):
    """Hold out ``fraction`` of the training split (a seeded permutation) and evaluate on it instead of
    the test split: what a search selects on, so the test set is never seen while selecting."""

    fraction: float = Field(0.1, gt=0, lt=1)
    seed: int = Field(0, ge=0, le=MAX_SEED)


class CellConfig(_Strict):
    """One training run: method x pipeline x dataset x model x schedule x seed."""

    #: a registered method by name, with params in the operators' spec syntax (``"byol(momentum=0.99)"``,
    #: or ``{"method": "byol", "momentum": 0.99}``); stored canonical (non-default params only)
    method: Union[str, dict[str, Any]] = "simclr"
    pipeline: list[OpSpec] = Field(default_factory=list)  # operator specs applied in order (the first view's)
    #: The second view's own pipeline (per-view policies, as BYOL's T'); None: as the protocol says
    #: (the identity for ``asymmetric``, ``pipeline`` for ``symmetric``). Hashed only when set.
    view2: Optional[list[OpSpec]] = None
    dataset: DatasetConfig = Field(default_factory=DatasetConfig)
    model: ModelConfig = Field(default_factory=ModelConfig)
    training: TrainingConfig = Field(default_factory=TrainingConfig)
    protocol: ProtocolConfig = Field(default_factory=ProtocolConfig)
    evaluation: EvaluationConfig = Field(default_factory=EvaluationConfig)
    seed: int = Field(0, ge=0, le=MAX_SEED)
    plugins: list[str] = Field(default_factory=list)  # modules to import (plugin operators, methods, ...)
    #: Train on the rest of the training split and evaluate on this held-out part (None: the test split).
    validation: Optional[ValidationSplit] = None

    @model_validator(mode="after")
    def _resolve_method(self) -> "CellConfig":
        """Import the plugins, check the method and its params against this cell, store its canonical spec."""
        from .method import resolve_method

        try:
            self.method = resolve_method(self.method, self, tuple(self.plugins))
        except (KeyError, ValueError) as e:  # unknown name, bad params: one line
            raise ValueError(str(e)) from None
        return self

    def canonical(self) -> dict[str, Any]:
        """JSON-ready dict with every default filled in (what the id hashes); ``view2`` and ``validation``
        only when set, and the fields of :data:`ID_NEUTRAL_DEFAULTS` only away from those defaults, so
        earlier cells keep their ids."""
        exclude = {k for k in ("view2", "validation") if getattr(self, k) is None}
        config = self.model_dump(mode="json", exclude=exclude or None)
        for section, defaults in ID_NEUTRAL_DEFAULTS.items():
            for key, default in defaults.items():
                if config.get(section, {}).get(key, default) == default:
                    config[section].pop(key, None)
        return config

    def cell_id(self) -> str:
        """Content address: sha256 of the canonical config + training code version, 16 hex digits.

        ``training.threads`` is an execution detail, not part of what is computed: it is left out.
        The resolved device kind and effective precision change the numbers (CUDA: bf16 autocast,
        Philox generator, tensor operators), so a cell that runs on a non-CPU device hashes them too;
        CPU cells hash no device entry, which keeps every CPU id (and the committed results) as before.
        """
        from augstudy.cellid import content_id

        basis = self.id_basis()
        return content_id(self.canonical(), basis["code"], basis["device"])

    def id_basis(self) -> dict[str, Any]:
        """What the id hashes besides the config: the training code version, and the device when not the CPU."""
        from augstudy.train.device import device_kind

        kind = device_kind(self.training.device)
        device = None if kind == "cpu" else {"type": kind, "bf16": bool(self.training.bf16)}
        return {"code": TRAIN_CODE_VERSION, "device": device}
