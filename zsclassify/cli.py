"""The ``zsclassify`` command."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

__all__ = ["main"]

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


def _demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    result = run_demo(judge_budget=args.judge_budget, random_state=args.seed)
    print(
        f"zsclassify demo: {result.n_labels} CLINC150 banking/credit-card intents, "
        f"pool of {result.n_pool} unlabeled utterances, {result.n_test} test utterances"
    )
    print(f"judge: {result.judge}")
    print(f"{'model':<26}{'test accuracy':>14}")
    print(f"{'zero-shot':<26}{result.zero_shot_accuracy:>14.3f}")
    print(f"{'refined (' + str(result.judged_pairs) + ' judged pairs)':<26}{result.refined_accuracy:>14.3f}")
    print(f"fit with judging: {result.fit_seconds:.1f} s; whole demo: {result.total_seconds:.1f} s")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``zsclassify`` command."""
    parser = argparse.ArgumentParser(prog="zsclassify", description="Zero-shot text classification.")
    parser.add_argument("-q", "--quiet", action="store_true", help="only results, no progress or log lines")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="zero-shot vs refined accuracy on a bundled intent set")
    demo.add_argument("--judge-budget", type=int, default=20, help="judged pairs per label (default 20)")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    demo.set_defaults(handler=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 failure, 2 usage)."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO, format="%(levelname)s %(message)s")
    try:
        return args.handler(args)
    except (OSError, ValueError, TypeError, KeyError) as error:
        print(f"zsclassify: error: {error}", file=sys.stderr)
        return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
