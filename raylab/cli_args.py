"""The `raylab` command line's arguments: one sub-parser per verb, each with a one-line description
and an example, `-v` accepted before or after the verb, and shell completion scripts."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping

from raylab import __version__

EXAMPLES = {
    "list": "raylab list",
    "show": "raylab show specgd/misalignment --smoke > my.yaml   # then: raylab run ... --config my.yaml",
    "run": "raylab run par/pendulum_paired --smoke --log tensorboard --set replicates=2",
    "tune": "raylab tune specgd/trajectory --sweep configs/specgd/sweeps/lr.yaml --smoke",
    "submit": "raylab submit specgd/misalignment --smoke --follow --address http://127.0.0.1:8265\n"
    "  raylab submit specgd/trajectory --sweep configs/specgd/sweeps/lr.yaml --smoke\n"
    "  raylab submit reproduce --smoke --only otcfm",
    "reproduce": "raylab reproduce --smoke --only specgd,faa",
    "report": "raylab report reproduce_out/smoke",
    "jobs": "raylab jobs list --address http://127.0.0.1:8265\n"
    "  raylab jobs logs raylab-run-specgd-misalignment-<run id> --follow\n"
    "  raylab jobs stop raylab-run-specgd-misalignment-<run id>",
    "completion": 'eval "$(raylab completion bash)"   # zsh: eval "$(raylab completion zsh)"',
}
HELP = {
    "list": "list experiments, their resources and papers",
    "show": "print the resolved config, every field with its description",
    "run": "run one experiment (local Ray, a cluster, or --serial)",
    "tune": "Ray Tune sweep over an experiment",
    "submit": "submit `raylab run` (or tune with --sweep, or `reproduce`) as a Ray job",
    "reproduce": "run every method's reproduction set and write REPORT.md",
    "report": "rebuild REPORT.md from the records in a folder",
    "jobs": "list the cluster's Ray jobs, print or follow one's logs, stop one",
    "completion": "print a shell completion script",
}


def _config_args(p: argparse.ArgumentParser, submit: bool = False) -> None:
    extra = " (or `reproduce`: the main job)" if submit else ""
    p.add_argument("experiment", help=f"<method>/<experiment>, see `raylab list`{extra}")
    p.add_argument("--config", help="a YAML file to use instead of configs/<experiment>.yaml")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a config value (repeatable)")
    p.add_argument("--seed", type=int, help="base seed (overrides the config's)")
    p.add_argument("--smoke", action="store_true", help="the small variant: seconds to a couple of minutes")


def _cluster_args(p: argparse.ArgumentParser, serial: bool = True) -> None:
    p.add_argument("--address", help="Ray cluster address (default: $RAY_ADDRESS, else a local Ray)")
    p.add_argument(
        "--dashboard",
        action="store_true",
        help="keep the local Ray's dashboard on 127.0.0.1 (URL printed) until the command ends",
    )
    if serial:
        p.add_argument("--serial", action="store_true", help="no Ray: run fan-outs in this process")


def _log_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--log",
        action="append",
        choices=["tensorboard", "wandb", "mlflow"],
        default=[],
        help="also mirror metrics to a tracker (repeatable): TensorBoard in <run folder>/tensorboard; "
        "W&B (WANDB_* variables; offline in the run folder without a key); MLflow (MLFLOW_TRACKING_URI; "
        "else <run folder>/mlruns)",
    )


def _verb_args(name: str, p: argparse.ArgumentParser) -> None:
    if name in ("show", "run", "tune", "submit"):
        _config_args(p, submit=name == "submit")
    if name in ("run", "tune", "reproduce"):
        _cluster_args(p, serial=name != "tune")
        _log_arg(p)
    if name in ("run", "tune", "reproduce"):
        p.add_argument(
            "--cache",
            metavar="DIR",
            help="a store for caches reused across runs (autodp's CRM; put it on shared storage for "
            "several nodes); default: each run's folder. Configs never name output paths",
        )
    if name == "run":
        p.add_argument("--out", help="run folder (default runs/<experiment>/<run id>)")
    elif name == "tune":
        p.add_argument("--sweep", required=True, help="sweep YAML, e.g. configs/specgd/sweeps/lr.yaml")
        p.add_argument("--num-samples", type=int, help="override the sweep's num_samples")
        p.add_argument("--out", help="sweep folder (default runs/<experiment>/tune-<id>)")
        p.add_argument(
            "--resume", metavar="DIR", help="continue the sweep in DIR whose driver was stopped or killed"
        )
    elif name == "submit":
        p.add_argument("--sweep", help="submit `raylab tune EXP --sweep F` instead (F inside --working-dir)")
        p.add_argument("--num-samples", type=int, help="with --sweep: override the sweep's num_samples")
        p.add_argument("--only", help="with EXP = reproduce: comma-separated methods or experiments")
        p.add_argument(
            "--address",
            help="dashboard address, http:// assumed (default $RAY_API_SERVER_ADDRESS, then $RAY_ADDRESS, "
            "else http://127.0.0.1:8265)",
        )
        p.add_argument("--working-dir", default=".", help="folder uploaded with the job (default .)")
        p.add_argument(
            "--out", help="run folder on the cluster (default: absolute runs/... under this folder)"
        )
        p.add_argument("--follow", action="store_true", help="stream logs; exit with the job's status")
        p.add_argument(
            "--pip", action="append", metavar="PKG", help="pip package the job installs (repeatable)"
        )
        p.add_argument(
            "--env", action="append", metavar="NAME=VALUE", help="job environment variable, no secrets"
        )
        p.add_argument(
            "--runtime-env", metavar="FILE", help="YAML with pip: [...] and env_vars: {...} for the job"
        )
        p.add_argument(
            "--exclude", action="append", metavar="GLOB", help="leave matching files out of the upload"
        )
        p.add_argument(
            "--entrypoint-num-cpus",
            type=float,
            metavar="N",
            help="CPUs the job's driver reserves (Ray's default 0: it may run on any node, e.g. the head)",
        )
        p.add_argument(
            "--entrypoint-resources",
            action="append",
            metavar="NAME=AMOUNT",
            help="other resources the driver reserves, e.g. GPU=1, memory=4e9 or a custom one (repeatable)",
        )
    elif name == "reproduce":
        p.add_argument("--smoke", action="store_true", help="every experiment's smoke variant")
        p.add_argument("--only", help="comma-separated methods or experiments")
        p.add_argument("--out", help="output folder (default reproduce_out/smoke or reproduce_out/full)")
        p.add_argument(
            "--resume", action="store_true", help="keep runs whose record in --out is ok for the same config"
        )
        p.add_argument(
            "--max-concurrent",
            type=int,
            metavar="N",
            help="experiments at once, each loop a Ray task (default: all on a cluster, 1 on a private Ray)",
        )
    elif name == "report":
        p.add_argument("dir", help="a folder of run records (searched recursively)")
        p.add_argument("--out", help="report path (default DIR/REPORT.md)")
        p.add_argument(
            "--check",
            action="store_true",
            help="fail unless DIR holds a full-size record of today's config for every reproduction-set "
            "experiment, failing exactly its open claims (committed results, e.g. docs/results)",
        )
        p.add_argument(
            "--readmes",
            action="store_true",
            help="instead of REPORT.md, rewrite each method README's results tables from the records in DIR",
        )
    elif name == "jobs":
        p.add_argument("action", choices=["list", "logs", "stop"], help="what to do")
        p.add_argument("job_id", nargs="?", help="the job (submission id) for logs / stop")
        p.add_argument(
            "--address",
            help="dashboard address, http:// assumed (default $RAY_API_SERVER_ADDRESS, then $RAY_ADDRESS, "
            "else http://127.0.0.1:8265)",
        )
        p.add_argument("--follow", action="store_true", help="logs: stream until the job ends")
    elif name == "completion":
        p.add_argument("shell", choices=["bash", "zsh"])


def build_parser(handlers: Mapping[str, Callable[[argparse.Namespace], int]]) -> argparse.ArgumentParser:
    verbose = argparse.ArgumentParser(add_help=False)
    verbose.add_argument(
        "-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="log at INFO level"
    )
    parser = argparse.ArgumentParser(
        prog="raylab", description="Ray-based reproductions of ML / optimisation papers"
    )
    parser.add_argument("--version", action="version", version=f"raylab {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")
    sub = parser.add_subparsers(dest="command", required=True, metavar="VERB")
    for name, handler in handlers.items():
        p = sub.add_parser(
            name,
            help=HELP[name],
            description=HELP[name],
            parents=[verbose],
            epilog=f"example:\n  {EXAMPLES[name]}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        _verb_args(name, p)
        p.set_defaults(handler=handler)
    return parser


def completion_script(shell: str, experiments: list[str]) -> str:
    """Completion of verbs and experiment names (bash's `complete`; zsh through bashcompinit)."""
    verbs, names = " ".join(HELP), " ".join(experiments)
    body = f"""_raylab() {{
  local cur=${{COMP_WORDS[COMP_CWORD]}}
  if [ "$COMP_CWORD" -eq 1 ]; then COMPREPLY=($(compgen -W "{verbs}" -- "$cur"));
  else COMPREPLY=($(compgen -W "{names}" -- "$cur")); fi
}}
complete -F _raylab raylab
"""
    return body if shell == "bash" else "autoload -U +X bashcompinit && bashcompinit\n" + body
