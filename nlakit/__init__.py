"""nlakit: Natural Language Autoencoders for Hugging Face causal LMs.

Stages, one module each, data flowing one way:
extract -> dataset -> teach -> ar / av -> rl -> evaluate -> explain (and `demo`, which runs them all;
`bench` measures their speed).
"""

__version__ = "0.1.0"
