"""The token floor: how much of a vector an AR rebuilds from the current token alone.

An explanation that names the token being read already carries much of a layer-K vector: in a
small model the residual stream at two thirds of the depth still leans on the token's own
embedding. An FVE means little until it stands beside what the token alone would give, so every
FVE nlakit prints for a row whose token is known comes with `fve_token_floor`, and the margin
`fve_over_token` = fve_nrm - fve_token_floor says what the explanation adds over the token.

How it is computed: a second AR, the token AR, trained from fresh adapters on the NLA's own
training activations with explanations that name only the token (the template teacher's design
`token`: `Reads: " library"`), stored beside the NLA as `token_ar/`. On any row its floor is the
token AR's FVE against the same baseline. The token AR is as well trained as its steps allow, so
a longer-trained one can only raise the floor: the margin is never flattered by a weak floor
trained for less than the NLA (the shipped one: 400 steps x 32 rows, more than the NLA's AR saw
per design in `nlakit teachers`). `nlakit token-floor` trains one for any NLA; an NLA without one
says so instead of printing a number.
"""

from __future__ import annotations

from pathlib import Path

from .ar import Reconstructor, load_reconstructor
from .errors import NLAError
from .prompts import template_explanation
from .sidecar import SIDECAR_NAME, Sidecar

TOKEN_AR = "token_ar"  # the token AR's folder inside an NLA folder (beside av/ and ar/)
TOKEN_DESIGN = "token"  # its teacher design: the token being read, verbatim, and nothing else


def token_texts(rows: list[dict]) -> list[str]:
    """What the token AR reads for each extracted row (its `token` field): the `token` design's explanation."""
    return [template_explanation(r, TOKEN_DESIGN) for r in rows]


def load_token_ar(nla_folder: Path, ar_meta: Sidecar, **placement: object) -> Reconstructor | None:
    """The token AR stored in `nla_folder`, or None where the NLA has none.

    Refused in one line when it reads another layer or model than the NLA's AR (its floor would be of other vectors),
    or when it was taught another design (its floor would not be the token's).
    """
    folder = Path(nla_folder) / TOKEN_AR
    if not (folder / SIDECAR_NAME).exists():
        return None
    meta = Sidecar.load(folder)
    design = meta.prompt_templates.get("teacher")
    if design != TOKEN_DESIGN:
        raise NLAError(f"{folder} was taught the design {design!r}, not {TOKEN_DESIGN!r}: it is no token floor (remove it or "
                       "train one with `nlakit token-floor`)")
    meta.check_compatible(ar_meta, str(folder))
    return load_reconstructor(folder, meta=meta, **placement)
