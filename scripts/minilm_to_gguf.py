#!/usr/bin/env python3
"""Convert a BERT sentence-embedding model (all-MiniLM-L6-v2) from safetensors to a GGUF file
that llama.cpp's llama-server serves with `--embeddings --pooling mean`.

numpy only: uses PyPI `gguf` (the writer) and `safetensors` (the reader); no torch, no
transformers. Mirrors what llama.cpp's convert_hf_to_gguf.py does for BertModel:
arch "bert", non-causal attention, mean pooling, WordPiece vocab in "phantom space" form
(`##` continuation prefix stripped, U+2581 prefixed on word-initial tokens, control tokens as is).

usage: minilm_to_gguf.py MODEL_DIR OUT.gguf [--f16]
MODEL_DIR holds config.json, model.safetensors, tokenizer.json (or vocab.txt).
"""
import json
import sys
from pathlib import Path

import numpy as np
import gguf
from safetensors.numpy import load_file


def main() -> int:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    model_dir, out_path = Path(args[0]), Path(args[1])
    f16 = "--f16" in sys.argv
    hp = json.loads((model_dir / "config.json").read_text())
    n_layer = hp["num_hidden_layers"]

    arch = gguf.MODEL_ARCH.BERT
    writer = gguf.GGUFWriter(str(out_path), gguf.MODEL_ARCH_NAMES[arch])
    writer.add_name(model_dir.name if model_dir.name != "model" else "all-MiniLM-L6-v2")
    writer.add_context_length(hp["max_position_embeddings"])
    writer.add_embedding_length(hp["hidden_size"])
    writer.add_feed_forward_length(hp["intermediate_size"])
    writer.add_block_count(n_layer)
    writer.add_head_count(hp["num_attention_heads"])
    writer.add_layer_norm_eps(hp.get("layer_norm_eps", 1e-12))
    writer.add_causal_attention(False)
    writer.add_pooling_type(gguf.PoolingType.MEAN)
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_F16 if f16 else gguf.LlamaFileType.ALL_F32)

    # Vocabulary: ids from vocab.txt order (== tokenizer.json model.vocab).
    vocab_txt = model_dir / "vocab.txt"
    if vocab_txt.exists():
        tokens = vocab_txt.read_text(encoding="utf-8").split("\n")
        if tokens and tokens[-1] == "":
            tokens.pop()
    else:
        vocab = json.loads((model_dir / "tokenizer.json").read_text())["model"]["vocab"]
        tokens = [t for t, _ in sorted(vocab.items(), key=lambda kv: kv[1])]
    special = set()
    tok_json = model_dir / "tokenizer.json"
    if tok_json.exists():
        for added in json.loads(tok_json.read_text()).get("added_tokens", []):
            if added.get("special"):
                special.add(added["content"])
    special |= {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}
    toktypes = []
    out_tokens = []
    for tok in tokens:
        if tok in special:
            toktypes.append(gguf.TokenType.CONTROL)
            out_tokens.append(tok)
        elif tok.startswith("##"):
            toktypes.append(gguf.TokenType.NORMAL)
            out_tokens.append(tok[2:])
        else:
            toktypes.append(gguf.TokenType.NORMAL)
            out_tokens.append("\u2581" + tok)
    writer.add_token_type_count(hp.get("type_vocab_size", 2))
    writer.add_tokenizer_model("bert")
    writer.add_tokenizer_pre("default")
    writer.add_token_list(out_tokens)
    writer.add_token_types(toktypes)
    ids = {t: i for i, t in enumerate(tokens)}
    # [CLS] is BERT's BOS; llama.cpp wraps every input as [CLS] ... [SEP].
    for name, tok in (("unk", "[UNK]"), ("sep", "[SEP]"), ("pad", "[PAD]"), ("bos", "[CLS]"), ("mask", "[MASK]")):
        if tok in ids:
            getattr(writer, f"add_{name}_token_id")(ids[tok])
    writer.add_add_bos_token(True)
    writer.add_add_sep_token(True)

    # Tensors.
    name_map = gguf.get_tensor_name_map(arch, n_layer)
    tensors = load_file(str(model_dir / "model.safetensors"))
    skip = {"embeddings.position_ids", "pooler.dense.weight", "pooler.dense.bias"}
    for name, data in tensors.items():
        if name.startswith("bert."):
            name = name[5:]
        if name in skip or name.startswith("cls."):
            continue
        new_name = name_map.get_name(name, try_suffixes=(".weight", ".bias"))
        if new_name is None:
            print(f"cannot map tensor {name!r}", file=sys.stderr)
            return 1
        data = data.astype(np.float32)
        # Only 2-D weight matrices go to f16; norms, biases and embeddings of types stay f32.
        if f16 and data.ndim == 2 and name.endswith(".weight") and "token_type" not in name:
            data = data.astype(np.float16)
        writer.add_tensor(new_name, data)

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    print(f"wrote {out_path} ({out_path.stat().st_size // (1024 * 1024)} MB, {len(tokens)} tokens, {n_layer} layers)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
