"""Einstein summation (torch.einsum / numpy.einsum), any number of operands.

`parse` turns an equation such as ``"bij,bjk->bik"``, ``"ij,jk"`` (implicit output) or ``"...ij,...jk->...ik"``
into one subscript string per operand and one for the output, with ``...`` spelled out as letters."""

from __future__ import annotations

import string

import numpy as np

from ..autograd import Function

LETTERS = string.ascii_letters


class Einsum(Function):
    """z = einsum(s₁,…,sₙ → o)(x₁,…,xₙ)

    dL/dxₖ = einsum(o, s₁,…(all but sₖ)…,sₙ → sₖ)(g, x₁,…,xₙ): the output gradient contracted with every other
    operand. Two details: a letter repeated in sₖ (a diagonal, ``"ii->"``) gets a fresh letter for its second
    place and an identity matrix joining the two; a letter only in sₖ (summed out of xₖ alone) gets a vector of
    ones, so every letter of sₖ appears among the inputs (its gradient is copied along it)."""

    def forward(self, *xs, inputs, output):
        self.save_for_backward(*xs)
        return np.asarray(np.einsum(f"{','.join(inputs)}->{output}", *xs, optimize=len(xs) > 1))

    def backward(self, g):
        xs = self.saved_tensors
        inputs, output = self.attrs["inputs"], self.attrs["output"]
        grads = []
        for k, spec in enumerate(inputs):
            if not self.needs_input_grad[k]:
                grads.append(None)
                continue
            operands, specs = [g] + [x for i, x in enumerate(xs) if i != k], [output] + [
                s for i, s in enumerate(inputs) if i != k]
            target = _gradient_operands(spec, xs[k].shape, operands, specs, set(output).union(*specs))
            grads.append(np.asarray(np.einsum(f"{','.join(specs)}->{target}", *operands, optimize=True)))
        return tuple(grads)


def _gradient_operands(spec: str, shape: tuple[int, ...], operands: list, specs: list[str], present: set[str]
                       ) -> str:
    """Append identity matrices (repeated letters) and ones (letters nowhere else) to `operands`/`specs`; return
    the subscripts of the gradient of the operand written `spec`."""
    unused = iter(c for c in LETTERS if c not in present and c not in spec)
    target, seen = [], set()
    for c, n in zip(spec, shape):
        if c in seen:  # second place of a diagonal: a fresh letter, tied to the first by δ
            fresh = next(unused)
            operands.append(np.eye(n, dtype=operands[0].dtype))
            specs.append(c + fresh)
            target.append(fresh)
            continue
        seen.add(c)
        target.append(c)
        if c not in present:
            operands.append(np.ones(n, dtype=operands[0].dtype))
            specs.append(c)
    return "".join(target)


def parse(equation: str, shapes: list[tuple[int, ...]]) -> tuple[tuple[str, ...], str]:
    """Subscripts for each operand and the output, ``...`` replaced by letters (right-aligned, broadcast)."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    inputs = lhs.split(",")
    if len(inputs) != len(shapes):
        raise ValueError(f"einsum: the equation {equation!r} names {len(inputs)} operands, got {len(shapes)}")
    for part in inputs + [rhs]:
        bad = set(part.replace("...", "")) - set(LETTERS)
        if bad or part.count("...") > 1:
            raise ValueError(f"einsum: invalid subscripts {part!r} in {equation!r} (letters, at most one '...')")
    free = [c for c in LETTERS if c not in eq]
    n_ell = max((len(shape) - (len(s) - 3) for s, shape in zip(inputs, shapes) if "..." in s), default=0)
    ell = "".join(free[:max(n_ell, 0)])  # letters for the broadcast axes, as many as the longest "..." covers
    spelled = []
    for s, shape in zip(inputs, shapes):
        named = len(s) - 3 if "..." in s else len(s)
        if ("..." in s and len(shape) < named) or ("..." not in s and len(shape) != named):
            raise ValueError(f"einsum: subscripts {s!r} do not fit an operand of shape {shape}")
        spelled.append(s.replace("...", ell[len(ell) - (len(shape) - named):] if len(shape) > named else ""))
    if arrow:
        output = rhs.replace("...", ell)
    else:  # implicit: broadcast axes, then the letters used once, in alphabetical order (numpy's rule)
        counts = "".join(inputs).replace("...", "")
        output = ell + "".join(sorted(c for c in set(counts) if counts.count(c) == 1))
    _check_sizes(equation, spelled, output, shapes, ell)
    return tuple(spelled), output


def _check_sizes(equation: str, inputs: list[str], output: str, shapes: list[tuple[int, ...]], ell: str) -> None:
    sizes: dict[str, int] = {}
    for spec, shape in zip(inputs, shapes):
        for c, n in zip(spec, shape):
            if c in sizes and sizes[c] != n and not (c in ell and 1 in (n, sizes[c])):
                raise ValueError(f"einsum: subscript {c!r} has size {sizes[c]} in one operand and {n} in another "
                                 f"({equation!r} with shapes {', '.join(map(str, shapes))})")
            sizes[c] = n if c not in sizes or sizes[c] == 1 else sizes[c]
    for c in output:
        if c not in sizes:
            raise ValueError(f"einsum: output subscript {c!r} appears in no operand of {equation!r}")
    if len(set(output)) != len(output):
        raise ValueError(f"einsum: output subscripts {output!r} repeat a letter")
