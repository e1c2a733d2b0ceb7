#!/usr/bin/env python3
"""Write a tiny llama-architecture GGUF with random weights, using the PyPI `gguf` writer.

llama-server loads it and answers requests (with gibberish); aiposture's tests use it as a
real model file that a real server maps. Deterministic: same arguments, same bytes.
"""
import argparse
import sys

import numpy as np
import gguf


def vocab():
    tt = gguf.TokenType
    toks = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]
    types = [tt.UNKNOWN, tt.CONTROL, tt.CONTROL] + [tt.BYTE] * 256
    scores = [0.0] * len(toks)
    # The SPM tokenizer needs byte-fallback tokens; a few printable pieces keep it useful.
    for c in ["\u2581"] + [chr(c) for c in range(0x21, 0x7F)]:
        toks.append(c)
        types.append(tt.NORMAL)
        scores.append(-1000.0 + len(toks) * -0.001)
    return toks, scores, [int(t) for t in types]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--name", default="aiposture tiny llama")
    ap.add_argument(
        "--chat-template",
        default="{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}",
    )
    a = ap.parse_args()

    rng = np.random.default_rng(7)
    toks, scores, types = vocab()
    n_vocab, n_embd, n_ff, n_layer, n_head, n_kv = len(toks), 64, 128, 2, 4, 2
    head = n_embd // n_head

    w = gguf.GGUFWriter(a.out, "llama")
    w.add_name(a.name)
    w.add_organization("aiposture tests")
    w.add_license("mit")
    w.add_source_url("https://example.invalid/aiposture/tiny-llama")
    w.add_file_type(int(gguf.LlamaFileType.MOSTLY_F16))
    w.add_quantization_version(gguf.GGML_QUANT_VERSION)
    w.add_vocab_size(n_vocab)
    w.add_context_length(512)
    w.add_embedding_length(n_embd)
    w.add_block_count(n_layer)
    w.add_feed_forward_length(n_ff)
    w.add_head_count(n_head)
    w.add_head_count_kv(n_kv)
    w.add_rope_dimension_count(head)
    w.add_rope_freq_base(10000.0)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_tokenizer_model("llama")
    w.add_token_list(toks)
    w.add_token_scores(scores)
    w.add_token_types(types)
    w.add_unk_token_id(0)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_chat_template(a.chat_template)

    def mat(name, rows, cols):
        w.add_tensor(name, (rng.standard_normal((rows, cols)) * 0.02).astype(np.float16))

    def norm(name, n):
        w.add_tensor(name, np.ones(n, dtype=np.float32))

    mat("token_embd.weight", n_vocab, n_embd)
    for i in range(n_layer):
        p = f"blk.{i}."
        norm(p + "attn_norm.weight", n_embd)
        mat(p + "attn_q.weight", n_head * head, n_embd)
        mat(p + "attn_k.weight", n_kv * head, n_embd)
        mat(p + "attn_v.weight", n_kv * head, n_embd)
        mat(p + "attn_output.weight", n_embd, n_head * head)
        norm(p + "ffn_norm.weight", n_embd)
        mat(p + "ffn_gate.weight", n_ff, n_embd)
        mat(p + "ffn_up.weight", n_ff, n_embd)
        mat(p + "ffn_down.weight", n_embd, n_ff)
    norm("output_norm.weight", n_embd)
    mat("output.weight", n_vocab, n_embd)

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    print(f"wrote {a.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
