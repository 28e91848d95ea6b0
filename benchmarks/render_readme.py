"""Write ``benchmarks/README.md`` from the results files, so that no table in it can drift from its file.

Each section names a benchmark, what it measures, the command that makes it and the results file it reads; every
table is rendered from that file (floats to 3 decimals), with the date and machine the file records. What was tried
and dropped, and why, is the dated log in ``benchmarks/HISTORY.md``.

Usage: python benchmarks/render_readme.py            # rewrite benchmarks/README.md
       python benchmarks/render_readme.py --check    # exit 1 if it differs (tests/test_benchmarks_readme.py)
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
README = HERE / "README.md"


@dataclass(frozen=True)
class Section:
    title: str
    what: str
    command: str
    file: str
    key: str  # the list (or dict) of rows in the file
    columns: tuple[str, ...] = ()  # () = every column of the first row
    keep: dict = field(default_factory=dict)  # column -> allowed values


LLM_COLUMNS = ("dataset", "random_state", "judging", "judge agreement with gold", "zero-shot acc",
               "refined acc (LLM judge)", "refined acc (GoldJudge)", "judged units", "requests")  # fmt: skip

SECTIONS = [
    Section(
        "Multi-label: MixATIS and MixSNIPS",
        "`MultiLabelZeroShotClassifier`, pool = the train texts, medians of seeds 0-2: zero-shot (each text's best "
        'label), GoldJudge at budgets 20 and 5 ("which of these 8 labels apply"), the near-miss judge (the 1.5B '
        "LLM's yes/no rates per option), judges that must leave the fit at zero-shot (random, always yes, always no; "
        "asked yes/no), and one-vs-rest logistic regression on frozen MiniLM with 20 labelled utterances per label "
        "(C by CV) in the same run. Scoring `clauses`: each label on a text's best clause (the default, "
        '`segmenter="clauses"`; the LR trained on whole texts and scored the same way); `whole`: one embedding per '
        "text, as the paper scores. MAP: mean per-label average precision; ECE over every (text, label) probability; "
        "min micro-F1: the worst seed. est. false-yes, yes to far, judge weight, decision: the judge-quality check "
        "(about 10% of the budget: one-clause texts asked about their best three labels and a far one; see "
        "`check_judge`). Targets (issue 24), GoldJudge budget 20: micro-F1 >= the LR on whole texts (the issue's "
        "baseline): met on both (0.781 vs 0.697, 0.918 vs 0.805); against the LR scored by clauses too, met on "
        "both (0.781 vs 0.776, 0.918 vs 0.850). MAP >= zero-shot + 25%: against whole-text zero-shot, MixATIS "
        "+113%, MixSNIPS +29%; clauses against clauses, MixATIS +80%, MixSNIPS +21% (no: +25% would need MAP 0.996). "
        "Useless judges: "
        "every seed at zero-shot exactly (before the check: MixSNIPS 0.448 / 0.000 / 0.364 micro-F1 for always "
        "yes / always no / random, against 0.596).",
        "python benchmarks/multilabel.py",
        "multilabel.json",
        "summary",
    ),
    Section(
        "A real local LLM answering multi-label questions",
        "Qwen2.5-Coder-1.5B-Instruct (Q4_K_M, llama.cpp server, 2 threads, no cache) asked by "
        "`OpenAICompatibleJudge` about 30 MixSNIPS test messages (10 each with 1, 2 and 3 intents), all 7 intents, "
        "in two question forms in the same run: `boolean`, the multi-label question (a JSON boolean per lettered "
        'candidate, each scored by its first token\'s log-probabilities; `judging="choice"`), and `yes_no`, one '
        'yes/no question per (intent, message) pair (`judging="yes_no"`). Both say no to most right intents, but '
        "the yes/no form's log-probabilities rank them far better (AUC 0.846 against 0.653) at about the same time "
        'per message: with a small local model, fit multi-label with `judging="yes_no"`.',
        "python benchmarks/llm_multilabel.py --gguf qwen2.5-coder-1.5b-instruct-q4_k_m.gguf --per-size 10 "
        "--forms boolean yes_no",
        "llm_multilabel.json",
        "rows",
    ),
    Section(
        "Judge zoo: every kind of judge against zero-shot",
        "`ZeroShotClassifier` defaults, pool = the train texts, seeds 0-2 (median and range), beside logistic "
        "regression on 20 true labels per label (C by CV, same run). Judges: GoldJudge with 0 / 15 / 30% flipped "
        "answers, GoldJudge asked yes/no only (what the question form costs a perfect judge), the near-miss "
        "simulator at the real 1.5B model's rates and harsher, random, always yes, always no, a first-option "
        "chooser, a position-blind chooser right 80% of the time, one right about yes/no but choosing at random, "
        "and on SNIPS the real 1.5B LLM's recorded yes/no scores. est. / true false-yes: the judge-quality check's "
        "estimate and the judge's true rate on the same questions. Targets (issue 23): every row >= zero-shot - 1 "
        "point on every seed (met, 52 of 52); the estimated false-yes within 0.1 of the true one (met); the real "
        "LLM no worse than before the check (live: 0.876 against 0.870, met; its score replay, now from 1,416 "
        "recorded answers: 0.896 against 0.899, 0.3 point under); option readers within 0.5 point of the code "
        "before the check: 22 of 24 rows (SNIPS GoldJudge budget 20 loses 0.6, Banking77 15% flips budget 5 0.7). "
        "The check takes about 10% of the budget (at least 10 utterances, three units each; 6 in a multiple-choice "
        "fit, whose order probe rates the choices too: SNIPS at budget 20 13%, none at budget 5). Not met: the "
        "near-miss judge's loss against GoldJudge is not halved (6.6 / 18.3 / 9.6 points; GoldJudge asked yes/no "
        "alone loses 1.1 / 7.4 / 2.9; its ceiling is the next section). A judge left at zero-shot scores in the "
        "pool-centred space, hence 0.794 / 0.627 / 0.741 rather than the no-judge 0.761 / 0.622 / 0.740 (see "
        "HISTORY.md).",
        "python benchmarks/judge_zoo.py",
        "judge_zoo.json",
        "summary",
        (
            "dataset",
            "judge",
            "budget",
            "zero-shot",
            "refined",
            "min-max",
            "LR 20/label",
            "judging",
            "est. false-yes",
            "true false-yes",
            "judge weight",
            "decision",
        ),
    ),
    Section(
        "The near-miss judge's ceiling: its mistakes withheld",
        "Issue 23 asks the near-miss judge's loss against GoldJudge (budget 20) to be halved; it is not (6.6 / 18.3 / "
        "9.6 points). Every way of reading its answers tried moved it by under a point (noise rates, a cross-fitted "
        "prior, graded scores, pairs and confirmations per utterance, choices asked in two orders and averaged, the "
        "sampling; HISTORY.md). The ceiling of that "
        "work: the same judge with its wrong yes/no answers withheld, what a fit that knew which answers were wrong, "
        "and dropped them, would learn from; and with only its wrong yes withheld: the false yes is all a filter "
        "could win back. "
        "target: GoldJudge less half the loss the issue measured (4.9 / 18.4 / 9.4). On SNIPS even the ceiling stays "
        "under it; on Banking77 and CLINC150 only a filter that misses no mistake reaches it. Seeds 0-2, medians.",
        "python benchmarks/near_miss_bound.py",
        "near_miss_bound.json",
        "summary",
    ),
    Section(
        "A real LLM as the judge (Qwen2.5-Coder-1.5B on llama.cpp): SNIPS",
        'Live fits with the local model through the OpenAI-compatible judge (`judging="auto"`: its choices follow '
        "positions, so it is asked yes/no), beside GoldJudge on the same seeds, no cached answers, with the "
        "judge-quality check (2026-12-07): median 0.876 (seeds 0.813-0.901), against 0.870 (0.807-0.904) for the "
        "code before the check (`results/llm_judge_snips_pseudo_per_answer.json`). This run blended seed 4 toward "
        "zero-shot (judge weight 0.65); refitted from its cached answers with the follow-or-fall-back rule "
        "(`--name llm_judge_snips_cached_refit`), seed 4 gives 0.810, the median is unchanged.",
        "python benchmarks/llm_judge.py --gguf qwen2.5-coder-1.5b-instruct-q4_k_m.gguf --parts fits --judging auto "
        "--datasets snips --seeds 0 1 2 3 4 5 --cache-dir CACHE --name llm_judge_snips_judge_quality",
        "llm_judge_snips_judge_quality.json",
        "datasets",
        (*LLM_COLUMNS, "judge weight", "decision"),
    ),
    Section(
        "A real LLM as the judge: CLINC150's first 20 intents",
        "The same on 20 CLINC150 intents with their descriptions.",
        "python benchmarks/llm_judge.py --gguf qwen2.5-coder-1.5b-instruct-q4_k_m.gguf --parts fits --judging auto "
        "--datasets clinc150-20 --seeds 0 1 2 --cache-dir CACHE --name llm_judge_clinc150-20_seeds",
        "llm_judge_clinc150-20_seeds.json",
        "datasets",
        LLM_COLUMNS,
    ),
    Section(
        "The real LLM's recorded yes/no scores, replayed",
        "Refits from the model's recorded scores (answers it gave for other questions are drawn from its measured "
        "rates), 10 seeds, against its live fits.",
        "python benchmarks/score_replay.py",
        "score_replay.json",
        "summary",
    ),
    Section(
        "Calibration",
        "Accuracy, ECE (15 bins), log-loss and the largest probability on the test split, GoldJudge budget 20.",
        "python benchmarks/intent.py --parts calibration",
        "intent_calibration.json",
        "calibration",
    ),
    Section(
        "Out-of-scope rejection",
        "AUROC of the top probability for CLINC150's out-of-scope test utterances against in-scope ones.",
        "python benchmarks/intent.py --parts oos",
        "intent_oos.json",
        "out_of_scope",
    ),
    Section(
        "predict against raw encoding",
        "The same 5,000 CLINC150 texts through the embedder's own encode and through predict (target: overhead "
        "<= 5%), a single-label and a judged multi-label model; then 5,000 MixSNIPS messages, which the multi-label "
        "model encodes clause by clause (pieces per text), against encoding them whole. Medians of 3, 1 torch thread, "
        "the machine otherwise idle.",
        "python benchmarks/speed.py --parts predict predict_multi_label predict_multi_intent --name speed_multi_label",
        "speed_multi_label.json",
        "predict,predict_multi_label,predict_multi_intent",
    ),
    Section(
        "Serving under load (single-label)",
        "`zsclassify serve`, CLINC150 model, 1 encoder thread, clients sending one text per request (target: p50 at "
        "1 client <= 1.5x in-process predict).",
        "python benchmarks/serve_load.py --requests 300 --seconds 60",
        "serve_load_torch.json",
        "rows",
    ),
    Section(
        "Serving under load (multi-label)",
        "The same with a judged `MultiLabelZeroShotClassifier` over the 150 intents.",
        "python benchmarks/serve_load.py --multi-label --seconds 40",
        "serve_load_torch_multi_label.json",
        "rows",
    ),
    Section(
        "Serving with a client sending texts no encoder can take",
        "One more client sends lone surrogates and the like all along; good requests must all be answered.",
        "python benchmarks/serve_load.py --poison --requests 300",
        "serve_load_torch_poisoned.json",
        "rows",
    ),
    Section(
        "ONNX Runtime backends",
        "Single-text latency, batch throughput and refined accuracy of the torch, ONNX and int8 ONNX encoders.",
        "python benchmarks/onnx_backend.py",
        "onnx_backend.json",
        "rows",
    ),
    Section(
        "Model files",
        "Size and load time of a fitted model as joblib and as `.skops` (loads without running code).",
        "python benchmarks/model_size.py",
        "model_size.json",
        "rows",
    ),
    Section(
        "Editing intents with warm_start",
        "A bot's intents edited step by step: what each refit asks the judge, with `warm_start=True`.",
        "python benchmarks/refit.py --warm-start",
        "refit_warm_start.json",
        "rows",
    ),
]


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, list):
        return ", ".join(_cell(v) for v in value)
    return str(value).replace("|", "/")


def _rows(data: dict, key: str) -> list[dict]:
    rows: list[dict] = []
    for part in key.split(","):
        value = data[part]
        for row in value if isinstance(value, list) else [value]:
            rows.append({"part": part, **row} if "," in key else row)
    return rows


def render_section(section: Section) -> str:
    data = json.loads((RESULTS / section.file).read_text())
    rows = [row for row in _rows(data, section.key) if all(row.get(k) in v for k, v in section.keep.items())]
    columns = list(section.columns) or list(rows[0])
    machine = data.get("machine", {})
    lines = [
        f"## {section.title}",
        "",
        section.what,
        "",
        f"`{section.command}` -> `results/{section.file}`, {data.get('date', 'undated')}, "
        f"{machine.get('cpus', '?')} CPUs, Python {machine.get('python', '?')}.",
        "",
        "| " + " | ".join(columns) + " |",
        "|" + "---|" * len(columns),
    ]
    lines += ["| " + " | ".join(_cell(row.get(c, "")) for c in columns) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def render() -> str:
    head = (
        "# Benchmarks\n\n"
        "The current result of each benchmark, written from its results file by `benchmarks/render_readme.py` "
        "(`tests/test_benchmarks_readme.py` checks that this page is what the files say). Data: `../shared/data` "
        "(`ZSCLASSIFY_DATA` overrides). Every run: all-MiniLM-L6-v2 (the default, offline) on this project's 2-core "
        "CPU machine, shared with other work, so baselines run in the same run and times are medians. What was "
        "tried, measured and dropped, and why, is the dated log: [HISTORY.md](HISTORY.md).\n"
    )
    return head + "".join("\n" + render_section(section) for section in SECTIONS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="exit 1 if README.md is not what the files say")
    args = parser.parse_args()
    text = render()
    if args.check:
        sys.exit(0 if README.read_text() == text else 1)
    README.write_text(text)
    print(f"wrote {README} ({text.count(chr(10))} lines)")


if __name__ == "__main__":
    main()
