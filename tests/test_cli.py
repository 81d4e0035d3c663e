"""lib/cli.py: the common flags, their one-line errors, seeding, precision and the output folder."""
import argparse
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from lib import cli, hardware
from tests.conftest import one_line


def parser(**flags):
    return cli.make_parser("/somewhere/demo_script.py", "demo", **flags)


def test_defaults_are_the_given_book_values_and_outputs_go_under_outputs():
    args = parser(datasets=("mnist", "cifar10"), epochs=20, batch_size=128).parse_args([])
    assert (args.dataset, args.epochs, args.batch_size, args.limit, args.seed) == ("mnist", 20, 128, None, 0)
    assert args.out_dir == cli.REPO_ROOT / "outputs" / "demo_script"
    assert args.resume is False and args.plot_model is False


def test_flags_a_script_does_not_use_are_absent():
    args = parser(trains=False, has_model=False).parse_args([])
    assert not hasattr(args, "epochs") and not hasattr(args, "resume") and not hasattr(args, "dataset")
    gan_args = parser(train_steps=40000, save_interval=500).parse_args(["--train-steps", "3"])
    assert (gan_args.train_steps, gan_args.save_interval) == (3, 500)


@pytest.mark.parametrize("argv, complaint", [
    (["--epochs", "-1"], "expected an integer from 1 to 100,000, got '-1'"),
    (["--epochs", "0"], "expected an integer from 1 to 100,000, got '0'"),
    (["--epochs", "100001"], "expected an integer from 1 to 100,000, got '100001'"),  # 500x the book's
    (["--train-steps", "10" + "0" * 18], "expected an integer from 1 to 50,000,000"),
    (["--batch-size", "lots"], "expected a positive integer, got 'lots'"),
    (["--limit", "2.5"], "expected a positive integer"),
    (["--seed", "-3"], "expected an integer from 0 to 4294967295"),
    (["--dataset", "imagenet"], "invalid choice: 'imagenet'"),
    (["--no-such-flag"], "unrecognized arguments"),
])
def test_bad_values_exit_2_with_one_line(argv, complaint, capsys):
    with pytest.raises(SystemExit) as raised:
        parser(datasets=("mnist",), epochs=1, batch_size=1, train_steps=1).parse_args(argv)
    assert raised.value.code == 2
    line = one_line(capsys.readouterr().err)
    assert line.startswith("demo_script.py: error:") and complaint in line


def test_float_between_takes_its_range_and_names_it_when_refusing():
    sweep, weight = cli.float_between(-4, 4), cli.float_between(0, 1, low_included=False)
    assert (sweep("-4"), sweep("4"), sweep("0.5"), weight("1e-9"), weight("1")) == (
        -4.0, 4.0, 0.5, 1e-9, 1.0)
    for number, bad, refusal in [(sweep, "4.000001", "expected a number from -4 to 4"),
                                 (sweep, "-1e39", "expected a number from -4 to 4"),
                                 (weight, "0", "expected a number above 0 up to 1"),
                                 (weight, "1e39", "expected a number above 0 up to 1")]:
        with pytest.raises(argparse.ArgumentTypeError, match=f"^{refusal}, got '{bad}'$"):
            number(bad)
    for bad in ("nan", "inf", "-inf", "x", ""):  # nan compares false with any bound
        with pytest.raises(argparse.ArgumentTypeError):
            sweep(bad)


def test_existing_file(tmp_path):
    weights = tmp_path / "g.weights.h5"
    weights.write_bytes(b"")
    assert cli.existing_file(str(weights)) == weights
    with pytest.raises(Exception, match="no such file"):
        cli.existing_file(str(tmp_path / "missing.keras"))
    with pytest.raises(Exception, match="is a folder; give a file in it"):
        cli.existing_file(str(tmp_path))


def test_parse_args_seeds_every_generator_and_creates_the_output_folder(tmp_path):
    def draws(seed):
        cli.parse_args(parser(), ["--seed", str(seed), "--out-dir", str(tmp_path / "run")])
        return np.random.rand(), keras.ops.convert_to_numpy(keras.random.uniform((2,)))

    first, again, other = draws(7), draws(7), draws(8)
    assert first[0] == again[0] and np.array_equal(first[1], again[1])
    assert first[0] != other[0]
    assert (tmp_path / "run").is_dir()


def test_deterministic_turns_on_tensorflows_op_determinism_and_only_it(tmp_path,
                                                                    op_determinism_requests):
    cli.parse_args(parser(), ["--out-dir", str(tmp_path / "plain")])
    assert op_determinism_requests == []
    cli.parse_args(parser(), ["--deterministic", "--out-dir", str(tmp_path / "deterministic")])
    assert op_determinism_requests == [1]


def test_an_uncreatable_output_folder_is_a_one_line_error(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(SystemExit) as raised:
        cli.parse_args(parser(), ["--out-dir", str(blocker / "run")])
    assert raised.value.code == 2 and "cannot create" in one_line(capsys.readouterr().err)


def test_user_errors_and_interrupts_end_in_one_line():
    @cli.reports_user_errors
    def failing(argv=None):
        raise argv

    with pytest.raises(SystemExit) as raised:
        failing(cli.UserError("no weights at g.keras"))
    assert raised.value.code == 2
    with pytest.raises(SystemExit) as raised:
        failing(KeyboardInterrupt())
    assert raised.value.code == 130
    with pytest.raises(ZeroDivisionError):  # programming errors keep their traceback
        failing(ZeroDivisionError())


def test_user_error_message_goes_to_stderr(capsys):
    @cli.reports_user_errors
    def failing(argv=None):
        raise cli.UserError("no weights at g.keras")

    with pytest.raises(SystemExit):
        failing()
    assert one_line(capsys.readouterr().err) == "test_cli.py: error: no weights at g.keras"


XEON_WITH_AMX = hardware.Hardware("Intel(R) Xeon(R) Platinum 8481C", "GenuineIntel",
                                   frozenset({"avx512_bf16", "amx_bf16", "amx_tile", "avx512f"}))
XEON_WITHOUT_AMX = hardware.Hardware("Intel(R) Xeon(R) CPU @ 2.20GHz", "GenuineIntel",
                                      frozenset({"avx512_bf16", "avx512f"}))
EPYC_WITH_AVX512_BF16 = hardware.Hardware("AMD EPYC", "AuthenticAMD",
                                           frozenset({"avx512_bf16", "avx512f"}))
OLD_CPU = hardware.Hardware("Intel(R) Core(TM) i7-6700", "GenuineIntel", frozenset({"avx2"}))


@pytest.mark.parametrize("machine, chosen", [
    (XEON_WITH_AMX, "mixed_bfloat16"),
    (XEON_WITHOUT_AMX, "float32"),
    (EPYC_WITH_AVX512_BF16, "mixed_bfloat16"),
    (OLD_CPU, "float32"),
    (hardware.Hardware("unknown CPU", "", None), "float32"),  # no /proc/cpuinfo
    (OLD_CPU._replace(tpu=True), "mixed_bfloat16"),
    (OLD_CPU._replace(gpus=(("NVIDIA A100-SXM4-40GB", (8, 0)),)), "mixed_float16"),
    (OLD_CPU._replace(gpus=(("Tesla V100-SXM2-16GB", (7, 0)),)), "mixed_float16"),
    (XEON_WITH_AMX._replace(gpus=(("Tesla P100-PCIE-16GB", (6, 0)),)), "float32"),
    (OLD_CPU._replace(gpus=(("Tesla T4", (7, 5)), ("Tesla K80", (3, 7)))), "float32"),
])
def test_auto_chooses_the_precision_by_hardware(machine, chosen):
    assert hardware.choose_precision(machine)[0] == chosen


def test_auto_says_on_the_first_line_what_it_chose_and_why(tmp_path, capsys, monkeypatch):
    for machine, words in ((XEON_WITHOUT_AMX, "float32 (auto: CPU without AMX: bfloat16 would "
                                               "be slower)"),
                            (XEON_WITH_AMX, "mixed_bfloat16 (auto: CPU with AMX: bfloat16 "
                                            "matrix units)")):
        monkeypatch.setattr(hardware, "this_machine", lambda strategy=None, machine=machine: machine)
        args = cli.parse_args(parser(), ["--precision", "auto", "--out-dir", str(tmp_path)])
        assert args.precision == "auto"  # the flag as given; the policy is what auto chose
        assert keras.mixed_precision.global_policy().name == words.split()[0]
        assert one_line(capsys.readouterr().out).endswith(f"precision {words}, XLA off")
        cli.release_out_dir_locks()


def test_bfloat16_asked_for_on_a_cpu_without_amx_runs_with_one_line_of_notice(
        tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(hardware, "this_machine", lambda strategy=None: XEON_WITHOUT_AMX)
    cli.parse_args(parser(), ["--precision", "mixed_bfloat16", "--out-dir", str(tmp_path)])
    assert keras.mixed_precision.global_policy().name == "mixed_bfloat16"
    first, notice = capsys.readouterr().out.splitlines()
    assert first.endswith("precision mixed_bfloat16, XLA off")
    assert notice.startswith("note: --precision mixed_bfloat16 on a CPU without AMX is slower")
    assert hardware.precision_notice("mixed_bfloat16", XEON_WITH_AMX) is None
    assert hardware.precision_notice("mixed_float16", XEON_WITH_AMX).startswith(
        "note: --precision mixed_float16 without an NVIDIA GPU")


def test_cpu_facts_come_from_proc_cpuinfo_and_are_unknown_without_it(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Xeon X\n"
                       "flags\t\t: fpu avx512_bf16 amx_bf16\n\nprocessor\t: 1\n"
                       "vendor_id\t: GenuineIntel\nmodel name\t: Xeon X\nflags\t\t: fpu\n")
    assert hardware.read_cpu(cpuinfo) == ("Xeon X", "GenuineIntel",
                                           frozenset({"fpu", "avx512_bf16", "amx_bf16"}))
    assert hardware.read_cpu(tmp_path / "missing") == ("unknown CPU", "", None)
    line = hardware.describe(XEON_WITHOUT_AMX._replace(gpus=(("Tesla T4", (7, 5)),)))
    assert line.startswith("Intel(R) Xeon(R) CPU @ 2.20GHz, ")
    assert line.endswith("logical cores; avx512_bf16 yes, amx_bf16 no, amx_tile no; GPU Tesla T4, "
                         "compute capability 7.5")


def test_precision_and_xla_flags_set_the_policy_and_say_where_the_run_runs(tmp_path, capsys,
                                                                           monkeypatch):
    monkeypatch.setattr(hardware, "this_machine", lambda strategy=None: XEON_WITH_AMX)
    args = cli.parse_args(parser(), ["--precision", "mixed_bfloat16", "--jit-compile",
                                     "--out-dir", str(tmp_path)])
    assert keras.mixed_precision.global_policy().name == "mixed_bfloat16" and args.jit_compile
    line = one_line(capsys.readouterr().out)
    assert line.startswith(f"Running on {keras.distribution.list_devices()[0]}")
    assert line.endswith(": 1 replica, precision mixed_bfloat16, XLA on")
    assert not hasattr(parser(has_model=False).parse_args([]), "precision")


def test_parse_args_returns_the_flags_as_parsed_and_the_strategy_comes_from_them(tmp_path):
    argv = ["--precision", "auto", "--out-dir", str(tmp_path)]
    args = cli.parse_args(parser(batch_size=8), argv)
    assert vars(args) == vars(parser(batch_size=8).parse_args(argv))
    assert cli.device_strategy(args) is cli.device_strategy(args)  # made once per process
    assert cli.device_strategy(args).num_replicas_in_sync == 1


@pytest.mark.parametrize("tf_config, folder", [
    (None, "out"),
    ('{"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 0}}', "out"),
    ('{"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 1}}',
     "out/workers/worker_1"),
    ('{"cluster": {"chief": ["a:1"], "worker": ["b:2"]}, "task": {"type": "worker", "index": 0}}',
     "out/workers/worker_0"),
    ('{"cluster": {"chief": ["a:1"], "worker": ["b:2"]}, "task": {"type": "chief", "index": 0}}',
     "out"),
    ("not json", "out"),
])
def test_in_a_cluster_only_the_chief_writes_to_out_dir(tf_config, folder, monkeypatch):
    if tf_config is None:
        monkeypatch.delenv("TF_CONFIG", raising=False)
    else:
        monkeypatch.setenv("TF_CONFIG", tf_config)
    assert parser().parse_args(["--out-dir", "out"]).out_dir == cli.Path(folder)
    assert parser(has_model=False).parse_args(["--out-dir", "out"]).out_dir == cli.Path("out")


def test_the_first_line_a_run_prints_says_where_it_runs(tmp_path):
    """TensorFlow's C++ start-up notices do not come first (lib/startup.py holds them back)."""
    environment = {name: value for name, value in os.environ.items()
                   if name != "TF_CPP_MIN_LOG_LEVEL"}
    completed = subprocess.run(
        [sys.executable, "chapter1_mlp_cnn_rnn/linear_model.py", "--epochs", "1",
         "--out-dir", str(tmp_path)], cwd=cli.REPO_ROOT, env=environment,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)
    assert completed.returncode == 0, completed.stdout[-2000:]
    assert completed.stdout.splitlines()[0].startswith("Running on ")


def hold_lock(folder):
    """The --out-dir lock of folder, taken as another run would (an open file of its own)."""
    import fcntl
    folder.mkdir(parents=True, exist_ok=True)
    lock = open(folder / ".lock", "a+")
    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    lock.write("process 12345")
    lock.flush()
    return lock


def test_a_second_run_in_the_same_out_dir_exits_2_with_one_line(tmp_path, capsys):
    from chapter1_mlp_cnn_rnn import plot_linear
    out_dir = tmp_path / "run"
    lock = hold_lock(out_dir)
    with pytest.raises(SystemExit) as raised:
        plot_linear.main(["--out-dir", str(out_dir)])
    assert raised.value.code == 2
    assert f"another run (process 12345) is writing to {out_dir}" in one_line(capsys.readouterr().err)
    assert not (out_dir / "linear_regression.png").exists()
    lock.close()  # the first run ends
    plot_linear.main(["--out-dir", str(out_dir)])
    assert (out_dir / "linear_regression.png").exists()
    plot_linear.main(["--out-dir", str(out_dir)])  # the lock went with the run that held it


def test_a_killed_run_leaves_no_lock_behind(tmp_path):
    from chapter1_mlp_cnn_rnn import plot_linear
    out_dir = tmp_path / "run"
    killed = subprocess.run(
        [sys.executable, "-c", "import os, signal, sys; from lib import cli; from pathlib import Path; "
         "out = Path(sys.argv[1]); out.mkdir(); cli.lock_out_dir(out); "
         "os.kill(os.getpid(), signal.SIGKILL)", str(out_dir)], cwd=cli.REPO_ROOT, timeout=120)
    assert killed.returncode == -9 and (out_dir / ".lock").exists()
    plot_linear.main(["--out-dir", str(out_dir)])
    assert (out_dir / "linear_regression.png").exists()
