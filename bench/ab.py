#!/usr/bin/env python3
"""A/B of release server binaries: does a piece of code move a figure a user can feel?

    bench/ab.py --baseline A/chatpass --candidate B/chatpass [--candidate C/chatpass ...]

In each round every binary, in turn (the order reversed every other round), gets a fresh
SQLite database and a signed-in session, then: `POST /api/chat_token` under wrk (req/s and
p99), the botnet flood of `make bench` (chat_token's p99 while 64 connections post wrong
passwords), and its peak RSS over the round. Each figure is the median round; a ratio is
candidate/baseline of those medians, beside the median of the rounds' own ratios (a round
pairs binaries measured a minute apart, so a slow spell of the machine hits both).
The same pinning, wrk settings and helpers as bench/run.py. Writes bench/results/ab.json.
"""
import argparse
import json
import statistics
import tempfile
import urllib.error
from pathlib import Path

import run

# (key, label, True when more is better)
FIGURES = [
    ("rps", "chat_token req/s (SQLite, signed in)", True),
    ("p99_ms", "chat_token p99 ms", False),
    ("flood_p99_ms", "botnet flood: chat_token p99 ms", False),
    ("peak_rss_mib", "peak RSS MiB (flood included)", False),
]


def sign_in(app, db, tries=5):
    """`run.signed_in`, tried again on a 408 or a time-out: on a core another process keeps
    busy, the sign-up's hash (under `SCHED_IDLE`) may not finish within the request timeout."""
    for attempt in range(tries):
        try:
            return run.signed_in(app, str(db), f"ab{attempt}", timeout=60)
        except (urllib.error.HTTPError, TimeoutError) as e:
            if attempt == tries - 1 or getattr(e, "code", 408) != 408:
                raise
            print(f"  sign-up attempt {attempt + 1}: {e}; again", flush=True)


def one_round(binary, tmp, name, seconds):
    """A fresh server from `binary`: chat_token under load, then the flood; its figures."""
    run.BIN = Path(binary).resolve()
    db = Path(tmp) / name
    db.mkdir()
    # Per-address limits lifted, as in `make bench`: the flood stands for many addresses.
    app = run.Chatpass(str(db), {"CHATPASS_LOGIN_FAILURES_PER_IP": "1000000"})
    try:
        script = sign_in(app, db)
        run.wrk(app.url + "/api/chat_token", script, duration=1)  # warm-up, not counted
        token = run.wrk(app.url + "/api/chat_token", script, duration=seconds)
        flood = run.botnet_flood(app, script, str(db))
        return {
            "rps": token["rps"],
            "p99_ms": token["p99_ms"],
            "errors": token["errors"] + flood["chat_token_errors"],
            "flood_p99_ms": flood["loaded_p99_ms"],
            "flood_unloaded_p99_ms": flood["unloaded_p99_ms"],
            "flood_statuses": flood["flood_statuses"],
            "logins_per_s": flood["logins_per_s"],
            "peak_rss_mib": run.peak_rss_mib(app.proc.pid),
        }
    finally:
        app.stop()


def spread(values):
    """(max - min) / median: how much the machine moved a figure between rounds."""
    middle = statistics.median(values)
    return (max(values) - min(values)) / middle if middle else 0.0


def name_of(path, taken):
    """A candidate's name in the table: its file's name, or its folder's for `…/chatpass`."""
    p = Path(path)
    name = p.parent.name if p.name == "chatpass" and p.parent.name else p.name
    while name in taken:
        name += "'"
    return name


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", required=True, help="release chatpass binary to compare against")
    parser.add_argument("--candidate", required=True, action="append",
                        help="release chatpass binary (repeatable); named in the table by its file or folder")
    parser.add_argument("--rounds", type=int, default=run.ROUNDS)
    parser.add_argument("--seconds", type=int, default=run.ROUND_SECONDS, help="chat_token wrk run per round")
    parser.add_argument("--site", default=str(run.SITE), help="LEPTOS_SITE_ROOT for the servers")
    args = parser.parse_args()
    run.SITE = Path(args.site)
    binaries = {"baseline": args.baseline}
    for c in args.candidate:
        binaries[name_of(c, binaries)] = c
    rounds = {name: [] for name in binaries}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            order = list(binaries) if r % 2 == 0 else list(reversed(binaries))
            for name in order:
                got = one_round(binaries[name], tmp, f"{name}-{r}", args.seconds)
                rounds[name].append(got)
                print(f"round {r + 1} {name}: " + ", ".join(f"{k} {got[k]:.2f}" for k, _, _ in FIGURES), flush=True)

    median = {name: {k: statistics.median(x[k] for x in rs) for k, _, _ in FIGURES} for name, rs in rounds.items()}
    base = rounds["baseline"]
    result = {"binaries": binaries, "rounds": rounds, "median": median, "ratios": {}, "spread": {}}
    print(f"\nA/B, {args.rounds} alternating rounds; server on core {run.SERVER_CPU}, wrk -t1 -c{run.CONNECTIONS} "
          f"for {args.seconds} s on core {run.LOAD_CPU}; flood as in bench/run.py (botnet_flood)")
    for name, rs in rounds.items():
        result["spread"][name] = {k: spread([x[k] for x in rs]) for k, _, _ in FIGURES}
        errors = sum(x["errors"] for x in rs)
        statuses = sorted({s for x in rs for s in x["flood_statuses"]})
        print(f"  {name} = {binaries[name]} ({errors} chat_token errors, flood statuses {statuses})")
    print("\n| figure | " + " | ".join(binaries) + " | " + " | ".join(f"{n}/baseline" for n in binaries if n != "baseline") + " |")
    print("|---" * (1 + 2 * len(binaries) - 1) + "|")
    for key, label, more_is_better in FIGURES:
        cells = [f"{median[n][key]:,.2f} (±{50 * result['spread'][n][key]:.0f}%)" for n in binaries]
        ratios = []
        for name in binaries:
            if name == "baseline":
                continue
            of_medians = median[name][key] / median["baseline"][key]
            paired = statistics.median(c[key] / b[key] for c, b in zip(rounds[name], base))
            result["ratios"].setdefault(name, {})[key] = {"of_medians": of_medians, "paired_median": paired}
            ratios.append(f"{of_medians:.2f} (paired {paired:.2f})")
        print(f"| {label} ({'higher' if more_is_better else 'lower'} is better) | " + " | ".join(cells + ratios) + " |")
    print("\n± is half the spread of the rounds (max - min) around the median: the machine's noise.")
    run.RESULTS.mkdir(parents=True, exist_ok=True)
    (run.RESULTS / "ab.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
