"""nlakit: Natural Language Autoencoders for Hugging Face causal LMs.

The public API is small: `NLA` (load a trained pair, explain text, round-trip and score vectors),
`Dictionary` (a neuron dictionary from `nlakit neurons`: load, search, entry, export) and `NLAError`
(the one exception users see). Everything else is reached through the CLI
(`nlakit --help`) or the stage modules. `NLA` is imported on first use, so `import nlakit` and
`nlakit --help` stay fast.
"""

from .core.errors import NLAError

__version__ = "0.1.0"
__all__ = ["NLA", "Dictionary", "NLAError", "__version__"]


def __getattr__(name: str):
    if name == "NLA":
        from .core.nla import NLA

        return NLA
    if name == "Dictionary":
        from .readings.dictionary import Dictionary

        return Dictionary
    raise AttributeError(f"module 'nlakit' has no attribute {name!r}")
