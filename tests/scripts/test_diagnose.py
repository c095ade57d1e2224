"""The pure parts of scripts/diarize_diagnose.py, which scripts/eval uses too: how
backchannels are found in an RTTM, judged against a reference, and what the segmentation's
runs made of a missed one. Run by scripts/test:

    python -m unittest discover -s tests/scripts
"""

import collections
import csv
import io
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

from diarize_diagnose import backchannels, judge_backchannels, missed_heard_as, read_rttm  # noqa: E402

# A floor holder (A) with two short replies inside her speech (B at 2.0 s, C at 6.0 s), a
# short reply that is not inside anyone's stretch (B at 12.2 s), and one as long as a turn
# inside A's second stretch (C at 14.0 s, 1.5 s: a turn, not a backchannel).
REFERENCE = [
    (0.0, 10.0, "A"),
    (2.0, 2.4, "B"),
    (6.0, 6.5, "C"),
    (11.0, 12.0, "A"),
    (12.2, 12.6, "B"),
    (13.0, 20.0, "A"),
    (14.0, 15.5, "C"),
]


def run(window, local, start, end, speaker, overlapped=True):
    return {"window": window, "local": local, "start": start, "end": end,
            "overlapped": overlapped, "speaker": speaker}


class Backchannels(unittest.TestCase):
    def test_short_speech_inside_another_stretch(self):
        found = [(a, b, who, floor) for a, b, who, floor in backchannels(REFERENCE)]
        self.assertEqual(found, [(2.0, 2.4, "B", "A"), (6.0, 6.5, "C", "A")])

    def test_stretches_are_the_union_of_a_speakers_lines(self):
        # B's two touching lines make one 1.2 s stretch: no longer a backchannel.
        lines = [(0.0, 10.0, "A"), (2.0, 2.6, "B"), (2.6, 3.2, "B")]
        self.assertEqual(backchannels(lines), [])

    def test_agrees_with_spacescribe_stats(self):
        """The reference counts in scripts/eval come from `spacescribe stats`; the judge
        must find the same backchannels, or its "right" column counts other things."""
        binary = ROOT / "target/release/spacescribe"
        self.assertTrue(binary.is_file(), f"{binary} missing: build with scripts/setup")
        with tempfile.TemporaryDirectory() as d:
            rttm = Path(d) / "ref.rttm"
            rttm.write_text("".join(
                f"SPEAKER ref 1 {a:.3f} {b - a:.3f} <NA> <NA> {w} <NA> <NA>\n"
                for a, b, w in REFERENCE))
            out = subprocess.run([str(binary), "stats", str(rttm), "--csv"],
                                 capture_output=True, text=True, check=True).stdout
            self.assertEqual(read_rttm(rttm), REFERENCE)
        counts = {row["speaker"]: int(row["backchannels"])
                  for row in csv.DictReader(io.StringIO(out))}
        mine = collections.Counter(who for _, _, who, _ in backchannels(REFERENCE))
        self.assertEqual(counts, {w: mine.get(w, 0) for w in counts})


class Judge(unittest.TestCase):
    def test_right_wrong_nobody_missed(self):
        hyp = [
            (0.0, 10.0, "A"),
            (2.05, 2.4, "B"),    # B's, found right (times a little off)
            (6.0, 6.5, "B"),     # C's, given to B
            (8.0, 8.3, "C"),     # nobody spoke there
            (11.0, 20.0, "A"),
        ]
        judged = judge_backchannels(REFERENCE, hyp)
        self.assertEqual([b[:3] for b in judged["B"]["right"]], [(2.05, 2.4, "B")])
        self.assertEqual([b[:3] for b in judged["B"]["wrong"]], [(6.0, 6.5, "B")])
        self.assertEqual([b[:3] for b in judged["C"]["nobody"]], [(8.0, 8.3, "C")])
        self.assertEqual([b[:3] for b in judged["C"]["missed"]], [(6.0, 6.5, "C")])
        self.assertEqual((judged["B"]["reference"], judged["C"]["reference"]), (1, 1))


class MissedHeardAs(unittest.TestCase):
    BC = (6.0, 6.5, "C", "A")
    TO_REF = {"S0": "A", "S1": "B", "S2": "C"}

    def test_the_floor_holders_own_run_is_not_hearing_it(self):
        runs = [run(0, 0, 0.0, 10.0, "S0", overlapped=False)]
        self.assertEqual(missed_heard_as(self.BC, runs, self.TO_REF), "not heard")

    def test_a_run_no_rule_named(self):
        runs = [run(0, 0, 0.0, 10.0, "S0", False), run(0, 1, 6.1, 6.4, None)]
        self.assertEqual(missed_heard_as(self.BC, runs, self.TO_REF), "nobody")

    def test_someone_else_wins_over_nobody_and_theirs_over_both(self):
        runs = [run(0, 1, 6.1, 6.4, None), run(1, 1, 6.0, 6.5, "S1")]
        self.assertEqual(missed_heard_as(self.BC, runs, self.TO_REF), "someone else")
        runs.append(run(2, 2, 6.2, 6.5, "S2"))
        self.assertEqual(missed_heard_as(self.BC, runs, self.TO_REF), "theirs")

    def test_a_run_that_barely_touches_it_does_not_count(self):
        runs = [run(0, 1, 6.45, 7.0, "S2")]
        self.assertEqual(missed_heard_as(self.BC, runs, self.TO_REF), "not heard")


if __name__ == "__main__":
    unittest.main()
