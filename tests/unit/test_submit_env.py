"""What `raylab submit` adds to a job's runtime env: pip packages and environment
variables, never a secret-looking one; and the warning, before upload, that names the largest files."""

import pytest

from raylab.cli import main
from raylab.runtime import jobs
from raylab.runtime.cluster import ClusterError


def test_flags_and_file_merge_into_the_runtime_env(tmp_path):
    extras = tmp_path / "env.yaml"
    extras.write_text("pip: [tqdm==4.67.1]\nenv_vars: {RAYLAB_MODE: fast}\n")
    env = jobs.job_runtime_env(tmp_path, ["rich"], ["OMP_NUM_THREADS=2", "EMPTY="], extras, ["data/*.npy"])
    assert env["pip"] == ["tqdm==4.67.1", "rich"]
    assert env["env_vars"] == {
        "PYTHONUNBUFFERED": "1",
        "RAYLAB_MODE": "fast",
        "OMP_NUM_THREADS": "2",
        "EMPTY": "",
    }
    assert env["excludes"][-1] == "data/*.npy" and ".venv" in env["excludes"]
    assert "pip" not in jobs.job_runtime_env(tmp_path)


@pytest.mark.parametrize("name", ["OPENAI_API_KEY", "HF_TOKEN", "DB_PASSWORD", "aws_secret_access_key"])
def test_secret_looking_variables_are_refused(tmp_path, name):
    with pytest.raises(ClusterError, match=f"{name}: looks like a secret"):
        jobs.job_runtime_env(tmp_path, env=[f"{name}=sk-planted"])


def test_malformed_extras_are_named(tmp_path):
    with pytest.raises(ClusterError, match="expected NAME=VALUE"):
        jobs.job_runtime_env(tmp_path, env=["NOVALUE"])
    extras = tmp_path / "env.yaml"
    extras.write_text("pip: [x]\nconda: base\n")
    with pytest.raises(ClusterError, match="only pip, env_vars may be set, not conda"):
        jobs.job_runtime_env(tmp_path, extras_file=extras)


def test_the_upload_warning_names_the_largest_files(tmp_path):
    (tmp_path / "big.bin").write_bytes(b"\0" * 700_000)
    (tmp_path / "small.txt").write_text("x")
    (tmp_path / "ignored").mkdir()
    (tmp_path / "ignored" / "huge.bin").write_bytes(b"\0" * 900_000)
    (tmp_path / ".gitignore").write_text("ignored/\n")
    sizes = dict((path, size) for size, path in jobs.upload_files(tmp_path, []))
    assert "big.bin" in sizes and "ignored/huge.bin" not in sizes  # Ray's own walk honours .gitignore
    warning = jobs.upload_warning(tmp_path, [], limit=2**20)
    assert "big.bin (0.7 MiB)" in warning and "--exclude" in warning
    assert jobs.upload_warning(tmp_path, ["*.bin"], limit=2**20) == ""
    assert jobs.upload_warning(tmp_path, []) == ""  # far below Ray's real limit


def test_submit_refuses_a_secret_before_contacting_any_cluster(capsys):
    code = main(
        [
            "submit",
            "specgd/trajectory",
            "--smoke",
            "--env",
            "OPENAI_API_KEY=sk-planted",
            "--address",
            "http://127.0.0.1:9",
        ]
    )
    assert code != 0
    err = capsys.readouterr().err
    assert "looks like a secret" in err and "sk-planted" not in err
