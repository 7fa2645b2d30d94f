#!/usr/bin/python3
"""Reference: BERT sequence classification in PyTorch, one fine-tuning step or one inference forward.

The yardstick for `npm run bench -- finetune` (bench/finetune.ts), modelled on
../shared/peers/torch_bert_step.py: the same Bert module style (token + position + segment
embeddings, LayerNorm, torch.nn.TransformerEncoderLayer post-LN with GELU, tanh pooler), with
BertForSequenceClassification's head (dropout, Linear(hidden, labels)) instead of MLM + NSP.

--mode step:    what `bert finetune glue/sst2` runs: dropout 0.1, cross-entropy, backward,
                clip_grad_norm 1.0, AdamW (lr 2e-5, weight decay 0.01).
--mode forward: what `bert eval` runs: model.eval() (no dropout) under torch.inference_mode(),
                classification logits (PyTorch may take its fused encoder fast path here).

Needs PyTorch (Debian's python3-torch, or a venv with torch 2).
Run:     python3 torch_bert_finetune.py --mode step --size tiny --threads 1
Prints one JSON line: sizes, ms_per_step (median; forward: ms per batch), tokens/s, sequences/s.
"""
import argparse, json, statistics, time

import torch
import torch.nn.functional as F

SIZES = {  # layers, hidden, heads (Turc et al. 2019 names)
    "tiny": (2, 128, 2), "mini": (4, 256, 4), "small": (4, 512, 8),
    "medium": (8, 512, 8), "base": (12, 768, 12),
}


class BertClassifier(torch.nn.Module):
    def __init__(self, vocab, layers, hidden, heads, labels, dropout=0.1, max_pos=512):
        super().__init__()
        self.dropout = dropout
        self.tok = torch.nn.Embedding(vocab, hidden)
        self.pos = torch.nn.Embedding(max_pos, hidden)
        self.seg = torch.nn.Embedding(2, hidden)
        self.ln = torch.nn.LayerNorm(hidden, eps=1e-12)
        block = torch.nn.TransformerEncoderLayer(
            hidden, heads, 4 * hidden, dropout=dropout, activation="gelu",
            batch_first=True, layer_norm_eps=1e-12)  # post-LN, like BERT
        self.enc = torch.nn.TransformerEncoder(block, layers, enable_nested_tensor=False)
        self.pool = torch.nn.Linear(hidden, hidden)
        self.classifier = torch.nn.Linear(hidden, labels)

    def forward(self, ids, seg, pad_mask):
        t = ids.shape[1]
        x = self.tok(ids) + self.pos(torch.arange(t))[None] + self.seg(seg)
        x = self.enc(F.dropout(self.ln(x), self.dropout, self.training), src_key_padding_mask=pad_mask)
        pooled = torch.tanh(self.pool(x[:, 0]))
        return self.classifier(F.dropout(pooled, self.dropout, self.training))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", default="step", choices=("step", "forward"))
    ap.add_argument("--size", default="tiny", choices=SIZES)
    ap.add_argument("--vocab", type=int, default=30522)
    ap.add_argument("--labels", type=int, default=2)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=10)
    a = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(a.threads)
    layers, hidden, heads = SIZES[a.size]
    model = BertClassifier(a.vocab, layers, hidden, heads, a.labels)
    b, t = a.batch, a.seq
    ids = torch.randint(0, a.vocab, (b, t))
    seg = (torch.arange(t) >= t // 2).long().expand(b, t)
    pad_mask = torch.zeros(b, t, dtype=torch.bool)
    labels = torch.randint(0, a.labels, (b,))

    if a.mode == "step":
        model.train()
        opt = torch.optim.AdamW(model.parameters(), lr=2e-5, weight_decay=0.01)

        def run():
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(ids, seg, pad_mask), labels)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            return loss.item()
    else:
        model.eval()

        def run():
            with torch.inference_mode():
                return model(ids, seg, pad_mask).tolist()  # the logits, read back like ours

    for _ in range(3):
        run()
    times = []
    for _ in range(a.steps):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    ms = statistics.median(times) * 1000
    print(json.dumps({
        "peer": f"pytorch {torch.__version__}", "mode": a.mode, "size": a.size, "threads": a.threads,
        "batch": b, "seq": t, "labels": a.labels, "params": sum(x.numel() for x in model.parameters()),
        "ms_per_step": round(ms, 1), "tokens_per_s": round(b * t / (ms / 1000)),
        "sequences_per_s": round(b / (ms / 1000), 1),
    }))


if __name__ == "__main__":
    main()
