"""Trace, fuse, replay: the first step towards a compiled training step.

`trace(fn, *args)` records what a function of Tensors computes as plain-data op records; `plan` fuses the
elementwise part of a trace into generated numba kernels (forward and backward); `Stepper` replays a recurrent
cell's step that way after tracing it; `compile_step` turns a traced step into a whole-sequence loop that runs
inside numba (`Recurrence`, one op per layer direction; sequence.py). The eager ops stay the reference:
``with fusion(False):`` runs without.
"""

from .fuse import Group, plan
from .fused import Fused
from .program import CompiledStep, Stepper, fusion, fusion_enabled
from .sequence import Recurrence, compile_step, sequences_enabled, whole_sequences
from .show import show
from .trace import OpRecord, Ref, Trace, trace

__all__ = ["CompiledStep", "Fused", "Group", "OpRecord", "Recurrence", "Ref", "Stepper", "Trace", "compile_step",
           "fusion", "fusion_enabled", "plan", "sequences_enabled", "show", "trace", "whole_sequences"]
