import dataclasses
import json

from raylab.records import Claim, ResultRecord, write_record
from raylab.reporting.report import build_report


def record(experiment: str, claims: list, status: str = "ok", **kwargs) -> ResultRecord:
    return ResultRecord(experiment, "r", status, 0, {}, "sha256:1", {"eval/x": 1.0}, claims, **kwargs)


def test_report_counts_claims_and_invariants_apart_and_lists_open_claims_first(tmp_path):
    write_record(
        record(
            "specgd/misalignment",
            [
                Claim.check("c.pass", "a | b <= 2", 1.0, "<=", 2.0, paper_value=1.21),
                Claim.check("c.fail", "value >= 5", 1.0, ">=", 5.0),
                Claim.invariant("c.by_construction", "holds", 0.0, "<=", 0.0),
            ],
            artifacts=["plot.png"],
        ),
        tmp_path / "a",
    )
    write_record(
        record("tsp_mdf/tsp500", [Claim.check("mdf.gap", "gap <= 8.2", 8.6, "<=", 8.2)]), tmp_path / "t"
    )
    write_record(record("specgd/trajectory", [], status="failed", error="ValueError: boom"), tmp_path / "b")
    write_record(
        record("tsp_mdf/tsplib", [Claim.check("mdf.RI", "RI + MDF beats the ablation", -0.1, ">", 0.0)]),
        tmp_path / "s",
    )
    text = build_report(tmp_path).read_text()
    assert (
        "4 runs: 1/4 claims passed, 1 open, 1 size-dependent not met here, 1 failed; 1/1 invariants hold; "
        "failed runs: specgd/trajectory." in text
    )
    assert text.index("## Open claims") < text.index("## specgd")
    assert "| `tsp_mdf/tsp500` | mdf.gap | gap <= 8.2 | 8.6 | <= 8.2 |" in text
    assert "| c.pass | claim | a \\| b <= 2 | 1.21 | 1 | <= 2 | yes |" in text  # the | is escaped
    assert "| c.fail | claim | value >= 5 | – | 1 | >= 5 | **NO** |" in text
    assert "| c.by_construction | invariant | holds | – | 0 | <= 0 | holds |" in text
    assert "| -0.1 | > 0 | not met here (size-dependent) |" in text
    assert "| eval/x | 1 |" in text and "![plot.png](a/plot.png)" in text and "ValueError: boom" in text
    page = (tmp_path / "index.html").read_text()
    assert "<h2>Open claims</h2>" in page and "<td>a | b &lt;= 2</td>" in page
    assert "[missing image plot.png]" in page  # the record lists a plot that was never written


def test_report_reads_a_folder_with_a_finished_sweep(tmp_path):
    sweep = tmp_path / "tune-1"
    trial = sweep / "tune" / "trial_0"
    trial.mkdir(parents=True)
    (trial / "result.json").write_text('{"eval/x": 1.0}\n{"eval/x": 2.0}\n')  # Tune's own: JSON lines
    write_record(record("specgd/trajectory", [Claim.check("c", "s", 1.0, "<=", 2.0)]), trial / "run")
    summary = {
        "experiment": "specgd/trajectory",
        "metric": "eval/x",
        "mode": "min",
        "best_value": 1.0,
        "best_values": {"lr.gd": 0.1},
        "trials": [{"config": {"lr.gd": 0.1}, "metric": 1.0, "error": None}],
    }
    (sweep / "tune_summary.json").write_text(json.dumps(summary))
    text = build_report(tmp_path).read_text()
    assert "1 runs: 1/1 claims passed" in text
    assert "### sweep `specgd/trajectory`" in text and "| 0.1 | 1 |  |" in text


def test_claims_a_readme_deviation_names_link_to_that_section(tmp_path):
    claims = [
        Claim.check(
            "S3-c.specgd_cos", "SpecGD keeps its alignment", 0.95, ">=", 0.9
        ),  # named in specgd's README
        Claim.check("S3-c.gd_spike", "GD amplifies the spike", 200.0, ">=", 100.0),  # not named
    ]
    write_record(record("specgd/misalignment", claims), tmp_path / "a")
    text = build_report(tmp_path).read_text()
    row = lambda claim_id: next(line for line in text.splitlines() if line.startswith(f"| {claim_id} |"))  # noqa: E731
    assert "[deviation](" in row("S3-c.specgd_cos") and "methods/specgd/README.md#deviations)" in row(
        "S3-c.specgd_cos"
    )
    assert "[deviation](" not in row("S3-c.gd_spike")


def test_deviation_names_match_claim_ids_or_their_prefixes_and_anchors_follow_github():
    from raylab.reporting.deviations import anchor, touches

    names = frozenset({"B5", "B1.recovery", "A3.monotone"})
    assert touches("B5.ks", names) and touches("B1.recovery@t0.5", names) and touches("A3.monotone", names)
    assert (
        not touches("B50.x", names) and not touches("B1.recovery_rate", names) and not touches("B4.w2", names)
    )
    assert anchor("## Deviations (all ours; the paper's method section was not available)") == (
        "deviations-all-ours-the-papers-method-section-was-not-available"
    )


def test_a_runs_markdown_table_is_inlined_and_a_missing_one_is_named(tmp_path):
    write_record(record("s2o/mnist_at", [], artifacts=["results.md", "gone.md"]), tmp_path / "run")
    (tmp_path / "run" / "results.md").write_text("| variant | clean |\n|---|---|\n| at | 91.7 |\n")
    text = build_report(tmp_path).read_text()
    assert "| at | 91.7 |" in text and "(table `gone.md` could not be read)" in text
    assert "<td>91.7</td>" in (tmp_path / "index.html").read_text()


def test_a_full_size_record_judges_size_dependent_claims_and_flags_open_claims_it_meets(tmp_path):
    claims = [
        Claim.check("paired.no_harm@alpha0.5", "no seed loses more than 8 points", -12.0, ">=", -8.0),
        Claim.check("paired.gain@alpha0.5", "PAR gains >= 8 points", 9.0, ">=", 8.0),
    ]
    write_record(record("par/pendulum_paired", claims, size="smoke"), tmp_path / "smoke" / "run")
    write_record(record("par/pendulum_paired", claims, size="full"), tmp_path / "full" / "run")
    smoke = build_report(tmp_path / "smoke").read_text()
    assert "| -12 | >= -8 | not met here (size-dependent) |" in smoke
    assert "| 9 | >= 8 | open |" in smoke  # below full size an open claim's pass is not evidence
    full = build_report(tmp_path / "full").read_text()
    assert "| -12 | >= -8 | **NO** |" in full
    assert "| 9 | >= 8 | met: remove from the open list |" in full
    assert "1/2 claims passed, 0 open, 0 size-dependent not met here, 1 failed" in full
    assert "1 open claims met (met: remove from the open list)" in full
    assert "full size, code" in full


def test_runs_waiting_for_the_users_own_data_are_listed_apart_not_as_failures(tmp_path):
    gated = "DataMissing: data.root is empty"
    write_record(record("abaw/affwild2", [], status="failed", error=gated), tmp_path / "a")
    write_record(
        record("tsp_mdf/tsp500", [], status="failed", error="DataMissing: no TSP data"), tmp_path / "t"
    )
    text = build_report(tmp_path).read_text()
    headline = text.splitlines()[2]
    assert "failed runs: tsp_mdf/tsp500;" in headline  # data the repository carries: a real failure
    assert "needs your data: abaw/affwild2." in headline
    assert text.index("## Needs your data") < text.index("## abaw")
    assert "| `abaw/affwild2` | `raylab run abaw/affwild2 --set data.root=" in text


def test_the_html_page_turns_no_record_text_into_markup_attributes_or_script_links(tmp_path):
    from raylab.reporting.html import render

    hostile = (
        '[a](x" onmouseover="alert(1)) [b](javascript:alert(2)) <script>alert(3)</script> '
        "<img src=x onerror=alert(4)> | cell"
    )
    page = render(
        f"# t\n\n| claim |\n|---|\n| {hostile.replace('|', chr(92) + '|')} |\n\n{hostile}\n", tmp_path, "t"
    )
    assert "<script>" not in page and "<img src=x" not in page
    assert 'onmouseover="' not in page and 'href="javascript:' not in page
    assert "&lt;script&gt;alert(3)&lt;/script&gt;" in page and "<td>" in page


def test_a_claim_that_could_not_be_judged_is_shown_and_counted_apart(tmp_path):
    from raylab.reporting.evidence import record_problems

    unjudged = Claim.unjudged(
        "B4.vs_torchcfm", "agrees with torchcfm", "torchcfm is not installed", "<=", 2.0
    )
    rec = record("otcfm/train2d", [Claim.check("B4.w2", "w2 < 0.1", 0.05, "<", 0.1), unjudged], size="smoke")
    write_record(rec, tmp_path / "t")
    text = build_report(tmp_path).read_text()
    assert "1/1 claims passed, 0 open, 0 size-dependent not met here, 0 failed" in text
    assert "1 claims not judged" in text and "| not judged (torchcfm is not installed) |" in text
    assert rec.claims_passed
    from raylab.config import config_hash
    from raylab.registry import get_spec
    from raylab.runner import load_run_config

    today = config_hash(load_run_config(get_spec("otcfm/train2d")))
    full = dataclasses.replace(rec, size="full", config_hash=today)
    assert record_problems(tmp_path, full) == [
        "otcfm/train2d: claims not judged: ['B4.vs_torchcfm'] (install what they need)"
    ]
