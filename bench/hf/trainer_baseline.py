#!/usr/bin/env python3
"""The HuggingFace baseline of the pretraining comparison: what a HF user would run on the same
text, vocab, cores and wall-clock budget.

Text: the given files (default ../shared/data/corpus/gutenberg_00-02.txt) tokenized with
BertTokenizerFast over our vocab.txt (lower-cased), concatenated and cut into 128-token blocks of
[CLS] + 126 word pieces + [SEP] (one [CLS]/[SEP] pair per block, not per line; see hf_common.py).
Model: `bert` (BertForMaskedLM, post-LN) or `roberta-prelayernorm`
(RobertaPreLayerNormForMaskedLM, pre-LN; pad id 0, our vocab, 514 positions, type vocab 2), fresh
weights, HF's default dropout (0.1). Training: transformers' Trainer with
DataCollatorForLanguageModeling (15%, 80/10/10), AdamW (HF's: bias correction on), weight decay
--weight-decay on all but biases and LayerNorm, gradient clipping 1.0.

Wall-clock budget: --minutes M --save-at 10,20,30. Training time is measured from the first step
(tokenization and model construction excluded; the tokenization time is reported); the time spent
saving is not counted. At each --save-at minute the model and tokenizer are saved to
<out>/min-<m>/ (save_pretrained: a directory mlm_heldout_eval.py scores) and training stops at M.

LR schedule: a HF user sets max_steps; with a time budget that number must be estimated. The
schedule is linear warm-up over --warmup-steps, then linear decay to 0 at an estimated total step
count: after --calibration-steps steps (default 30) the measured seconds per step give
total = steps so far + remaining budget / (s/step), fixed from then on (during calibration the
decay is computed against --max-steps-guess, which only matters if warm-up is shorter than the
calibration). --max-steps N skips the estimate and uses N. The estimate is printed and saved in
<out>/baseline.json with the per-save losses, step counts and timings.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hf_common import (DEFAULT_VOCAB, SIZES, default_corpus, die, load_tokenizer,  # noqa: E402
                       mlm_model, text_blocks)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--arch", choices=["bert", "roberta-prelayernorm"], default="bert",
                   help="BertForMaskedLM (post-LN) or RobertaPreLayerNormForMaskedLM (pre-LN)")
    p.add_argument("--size", choices=sorted(SIZES), default="tiny",
                   help="model size (tiny = L2/H128/A2, intermediate 512)")
    p.add_argument("--files", nargs="+",
                   default=default_corpus([f"gutenberg_0{i}.txt" for i in range(3)]),
                   help="training text (default ../shared/data/corpus/gutenberg_00-02.txt)")
    p.add_argument("--vocab", default=DEFAULT_VOCAB, help="vocab.txt (default our bert-base-uncased)")
    p.add_argument("--block-size", type=int, default=128, help="tokens per block (default 128)")
    p.add_argument("--max-blocks", type=int, default=None,
                   help="use only the first N blocks (short test runs)")
    p.add_argument("--out", required=True, help="output directory (min-<m>/ per save)")
    p.add_argument("--lr", type=float, default=5e-4, help="peak learning rate (default 5e-4)")
    p.add_argument("--batch-size", type=int, default=32, help="blocks per step (default 32)")
    p.add_argument("--warmup-steps", type=int, default=100, help="default 100")
    p.add_argument("--weight-decay", type=float, default=0.01,
                   help="AdamW weight decay, not on biases/LayerNorm (default 0.01; HF's own default is 0)")
    p.add_argument("--beta2", type=float, default=0.999, help="Adam beta2 (default 0.999)")
    p.add_argument("--minutes", type=float, required=True, help="training budget in minutes")
    p.add_argument("--save-at", default=None,
                   help="comma-separated minutes to save at (default: --minutes); the last "
                   "must equal --minutes")
    p.add_argument("--max-steps", type=int, default=None,
                   help="schedule length in steps (default: estimated from the first steps)")
    p.add_argument("--calibration-steps", type=int, default=30,
                   help="steps timed to estimate the schedule length (default 30)")
    p.add_argument("--max-steps-guess", type=int, default=100000,
                   help="schedule length used until the estimate exists (default 100000)")
    p.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    p.add_argument("--seed", type=int, default=42, help="weights, masking and shuffling seed")
    p.add_argument("--logging-steps", type=int, default=50,
                   help="train loss logged to baseline.json every N steps (default 50)")
    return p.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    save_at = sorted(float(m) for m in (args.save_at or str(args.minutes)).split(","))
    if save_at[-1] != args.minutes:
        die(f"--save-at {args.save_at}: the last save must be at --minutes {args.minutes}")
    if os.path.exists(args.out) and os.listdir(args.out):
        die(f"{args.out}: exists and is not empty (choose another --out)")

    import torch
    from transformers import (DataCollatorForLanguageModeling, Trainer, TrainerCallback,
                              TrainingArguments)

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    tok = load_tokenizer(args.vocab)
    blocks, tok_s = text_blocks(tok, args.files, args.block_size, args.max_blocks)
    print(f"tokenized {len(args.files)} files: {len(blocks)} blocks of {args.block_size} in "
          f"{tok_s:.1f} s", flush=True)

    class Blocks(torch.utils.data.Dataset):
        def __len__(self):
            return len(blocks)

        def __getitem__(self, i):
            return {"input_ids": torch.from_numpy(blocks[i])}

    model = mlm_model(args.arch, args.size, tok.vocab_size, tok.pad_token_id, tok.cls_token_id,
                      tok.sep_token_id)
    collator = DataCollatorForLanguageModeling(tok, mlm=True, mlm_probability=0.15,
                                               seed=args.seed)
    os.makedirs(args.out, exist_ok=True)

    plan = {"total": args.max_steps or args.max_steps_guess, "estimated": args.max_steps is None}

    def lr_factor(step: int) -> float:
        if step < args.warmup_steps:
            return step / max(1, args.warmup_steps)
        total = plan["total"]
        return max(0.0, 1.0 - (step - args.warmup_steps) / max(1, total - args.warmup_steps))

    class BudgetTrainer(Trainer):
        def create_scheduler(self, num_training_steps, optimizer=None):
            if self.lr_scheduler is None:
                self.lr_scheduler = torch.optim.lr_scheduler.LambdaLR(
                    optimizer if optimizer is not None else self.optimizer, lr_factor)
            return self.lr_scheduler

    record = {"arch": args.arch, "size": args.size, "lr": args.lr, "batch_size": args.batch_size,
              "warmup_steps": args.warmup_steps, "threads": args.threads,
              "blocks": int(len(blocks)), "tokenize_s": round(tok_s, 2), "saves": [], "log": []}

    def write_record():
        tmp = os.path.join(args.out, ".baseline.json.tmp")
        with open(tmp, "w") as f:
            json.dump(record, f, indent=1)
        os.replace(tmp, os.path.join(args.out, "baseline.json"))

    class Budget(TrainerCallback):
        def __init__(self):
            self.start = None
            self.excluded = 0.0
            self.pending = list(save_at)

        def elapsed(self) -> float:
            return time.perf_counter() - self.start - self.excluded

        def on_step_begin(self, targs, state, control, **kw):
            if self.start is None:
                self.start = time.perf_counter()

        def on_log(self, targs, state, control, logs=None, **kw):
            if logs and "loss" in logs:
                record["log"].append({"step": state.global_step, "loss": logs["loss"],
                                      "lr": logs.get("learning_rate"),
                                      "minutes": round(self.elapsed() / 60, 3)})

        def on_step_end(self, targs, state, control, **kw):
            step = state.global_step
            if plan["estimated"] and step == args.calibration_steps:
                per_step = self.elapsed() / step
                plan["total"] = step + int((args.minutes * 60 - self.elapsed()) / per_step)
                plan["estimated"] = False
                record["estimated_total_steps"] = plan["total"]
                record["calibration_s_per_step"] = per_step
                print(f"{per_step:.3f} s/step over {step} steps: schedule over "
                      f"{plan['total']} steps", flush=True)
            while self.pending and self.elapsed() >= self.pending[0] * 60:
                minute = self.pending.pop(0)
                t0 = time.perf_counter()
                d = os.path.join(args.out, f"min-{minute:g}")
                kw["model"].save_pretrained(d)
                tok.save_pretrained(d)
                shutil.copyfile(args.vocab, os.path.join(d, "vocab.txt"))
                last = record["log"][-1]["loss"] if record["log"] else None
                record["saves"].append({"minutes": minute, "dir": d, "step": step,
                                        "train_loss_last_log": last,
                                        "training_s": round(self.elapsed(), 1)})
                write_record()
                print(f"saved {d} at step {step} ({self.elapsed() / 60:.2f} min)", flush=True)
                self.excluded += time.perf_counter() - t0
            if not self.pending:
                control.should_training_stop = True
            return control

    targs = TrainingArguments(
        output_dir=os.path.join(args.out, "trainer"), per_device_train_batch_size=args.batch_size,
        learning_rate=args.lr, weight_decay=args.weight_decay, adam_beta2=args.beta2,
        max_grad_norm=1.0, warmup_steps=args.warmup_steps,
        max_steps=10 ** 8, logging_steps=args.logging_steps, save_strategy="no",
        report_to=[], seed=args.seed, disable_tqdm=True, dataloader_num_workers=0,
        use_cpu=True)
    trainer = BudgetTrainer(model=model, args=targs, train_dataset=Blocks(),
                            data_collator=collator, callbacks=[Budget()])
    trainer.train()
    write_record()
    print(json.dumps({k: v for k, v in record.items() if k != "log"}), flush=True)


if __name__ == "__main__":
    main()
