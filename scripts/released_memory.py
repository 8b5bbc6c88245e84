"""Memory of each released NLA pair in bf16, from parameter counts on the meta device (nothing is allocated).

bytes = 2 x (P_AV + P_AR + P_target), where
  P_AV     = the whole model (the released AVs are full fine-tunes of the text model);
  P_AR     = embeddings + (K + 1) blocks + the d x d value head (no final norm, no LM head);
  P_target = the whole model NLA.load reads activations from (the hub's Gemma-3 `-it` repositories are
             the multimodal wrapper, whose vision tower AutoModelForCausalLM loads too).
An untied LM head (Qwen, Llama) is also allocated while the AR loads, then dropped: a transient extra.

The architectures are those of the targets' config.json on the hub; the totals this prints match the
published sizes (7.6 B, 12.2 B, 27.4 B and 70.6 B parameters). Run: .venv/bin/python scripts/released_memory.py
"""

from __future__ import annotations

import torch
from transformers import AutoModelForCausalLM, Gemma3Config, Gemma3TextConfig, LlamaConfig, Qwen2Config

from nlakit.core.released import RELEASED

SIGLIP = dict(hidden_size=1152, intermediate_size=4304, num_hidden_layers=27, num_attention_heads=16, image_size=896, patch_size=14)
ARCHITECTURES = {
    "Qwen/Qwen2.5-7B-Instruct": (Qwen2Config(vocab_size=152064, hidden_size=3584, intermediate_size=18944, num_hidden_layers=28,
                                             num_attention_heads=28, num_key_value_heads=4, tie_word_embeddings=False), None),
    "google/gemma-3-12b-it": (Gemma3TextConfig(vocab_size=262208, hidden_size=3840, intermediate_size=15360, num_hidden_layers=48,
                                               num_attention_heads=16, num_key_value_heads=8, head_dim=256), SIGLIP),
    "google/gemma-3-27b-it": (Gemma3TextConfig(vocab_size=262208, hidden_size=5376, intermediate_size=21504, num_hidden_layers=62,
                                               num_attention_heads=32, num_key_value_heads=16, head_dim=128), SIGLIP),
    "meta-llama/Llama-3.3-70B-Instruct": (LlamaConfig(vocab_size=128256, hidden_size=8192, intermediate_size=28672, num_hidden_layers=80,
                                                      num_attention_heads=64, num_key_value_heads=8, tie_word_embeddings=False), None),
}


def parameters(config) -> tuple[int, int]:
    """(all parameters, parameters per decoder block) of the model `config` describes, built on the meta device."""
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config)
    blocks = model.get_decoder().layers
    return sum(p.numel() for p in model.parameters()), sum(p.numel() for p in blocks[0].parameters())


def main() -> None:
    print("| pair | AV | AR (K+1 blocks + head) | target | all three | bf16 | transient at AR load |")
    print("|---|---|---|---|---|---|---|")
    for entry in RELEASED:
        config, vision = ARCHITECTURES[entry.base_model]
        assert (config.hidden_size, config.num_hidden_layers) == (entry.d_model, entry.n_layers), entry.name
        full, block = parameters(config)
        d, vocab = config.hidden_size, config.vocab_size
        ar = vocab * d + (entry.layer_index + 1) * block + d * d
        target = full + (parameters(Gemma3Config(text_config=config.to_dict(), vision_config=vision))[0] - full if vision else 0)
        total = full + ar + target
        transient = 0 if config.tie_word_embeddings else vocab * d
        print(f"| {entry.name} | {full / 1e9:.2f} B | {ar / 1e9:.2f} B | {target / 1e9:.2f} B | {total / 1e9:.2f} B | "
              f"{2 * total / 1e9:.1f} GB | {2 * transient / 1e9:.1f} GB |")


if __name__ == "__main__":
    main()
