"""What this machine computes with, and the precision (--precision) it runs fastest: `auto`.

float32 is the book's. Keras' mixed precision keeps float32 weights and computes in
bfloat16 or float16, which pays only where the hardware multiplies in that type:
- TPUs: bfloat16 -> mixed_bfloat16.
- NVIDIA GPUs of compute capability 7.0 or later (tensor cores) -> mixed_float16,
  also from 8.0 on, where bfloat16 would serve too: float16 is what Keras' mixed
  precision guide measures, and no GPU was at hand to measure bfloat16 against it.
- CPUs, as measured for the DCGAN's step (bench/precision.py): with Intel's AMX
  (`amx_bf16`: bfloat16 matrix units) mixed_bfloat16 was 1.84x float32's speed, and
  on AMD's EPYC (Zen 5) with AVX512-BF16 1.39x -> mixed_bfloat16; on an Intel Xeon
  with AVX512-BF16 but no AMX it was 0.65x (1.5x slower) -> float32. Any other CPU,
  or one whose flags cannot be read (no /proc/cpuinfo), -> float32.
"""
import json
import os
from pathlib import Path
from typing import NamedTuple

import tensorflow as tf

PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")
CPU_FLAGS_THAT_MATTER = ("avx512_bf16", "amx_bf16", "amx_tile")


class Hardware(NamedTuple):
    """What the choice depends on. cpu_flags: None where they cannot be read."""
    cpu_model: str
    cpu_vendor: str
    cpu_flags: frozenset | None
    gpus: tuple = ()  # (name, (major, minor) compute capability) of each NVIDIA GPU
    tpu: bool = False


def read_cpu(cpuinfo=Path("/proc/cpuinfo")):
    """(model, vendor, flags) of the first CPU in a Linux cpuinfo file; flags None
    where there is no such file (not Linux)."""
    model, vendor, flags = "unknown CPU", "", None
    try:
        lines = cpuinfo.read_text().splitlines()
    except OSError:
        return model, vendor, flags
    for line in lines:
        key, _, value = (part.strip() for part in line.partition(":"))
        if key == "model name" and model == "unknown CPU":
            model = value
        elif key == "vendor_id" and not vendor:
            vendor = value
        elif key == "flags" and flags is None:
            flags = frozenset(value.split())
    return model, vendor, flags


def this_machine(strategy=None):
    """The Hardware of this machine; a TPU when `strategy` is a TPUStrategy."""
    gpus = []
    for gpu in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(gpu)
        gpus.append((details.get("device_name", gpu.name), details.get("compute_capability")))
    return Hardware(*read_cpu(), gpus=tuple(gpus),
                    tpu=isinstance(strategy, tf.distribute.TPUStrategy))


def choose_precision(machine):
    """(precision, why in a few words) for --precision auto on `machine` (a Hardware)."""
    if machine.tpu:
        return "mixed_bfloat16", "TPU: bfloat16 matrix units"
    if machine.gpus:
        capabilities = [capability or (0, 0) for _, capability in machine.gpus]
        if min(capabilities) >= (7, 0):
            return "mixed_float16", f"GPU of compute capability {'.'.join(map(str, min(capabilities)))}: tensor cores"
        return "float32", "GPU without tensor cores (compute capability below 7.0)"
    flags = machine.cpu_flags
    if flags is None:
        return "float32", "CPU features unknown"
    if "amx_bf16" in flags:
        return "mixed_bfloat16", "CPU with AMX: bfloat16 matrix units"
    if "avx512_bf16" in flags and machine.cpu_vendor == "AuthenticAMD":
        return "mixed_bfloat16", "AMD CPU with AVX512-BF16"
    return "float32", "CPU without AMX: bfloat16 would be slower"


def precision_notice(precision, machine):
    """One line when the precision asked for will be slower here than float32, else None."""
    if machine.tpu or precision == "float32":
        return None
    if precision == "mixed_float16" and not machine.gpus:
        return ("note: --precision mixed_float16 without an NVIDIA GPU computes float16 in "
                "software, far slower than float32; --precision auto chooses for this machine")
    if (precision == "mixed_bfloat16" and not machine.gpus
            and choose_precision(machine)[0] != "mixed_bfloat16"):
        return ("note: --precision mixed_bfloat16 on a CPU without AMX is slower than float32 "
                "(1.5x on a Xeon with AVX512-BF16 alone); --precision auto chooses for this machine")
    return None


def resolve_precision(asked, strategy):
    """The precision to run in for --precision `asked`, and the words that go with it
    on the run's first line: (precision, description, notice or None)."""
    if asked == "float32":  # the default: nothing to look up
        return asked, asked, None
    machine = this_machine(strategy)
    if asked == "auto":
        chosen, why = choose_precision(machine)
        return chosen, f"{chosen} (auto: {why})", None
    return asked, asked, precision_notice(asked, machine)


def describe(machine=None):
    """One line for a speed table: CPU model, cores, the bfloat16 flags, and each GPU
    with its compute capability."""
    machine = machine or this_machine()
    flags = machine.cpu_flags or frozenset()
    known = "" if machine.cpu_flags is not None else " (flags unknown)"
    line = (f"{machine.cpu_model}, {os.cpu_count()} logical cores{known}; "
            + ", ".join(f"{flag} {'yes' if flag in flags else 'no'}"
                        for flag in CPU_FLAGS_THAT_MATTER))
    for name, capability in machine.gpus:
        line += f"; GPU {name}, compute capability {'.'.join(map(str, capability or ()))}"
    return line


def json_line():
    """The benches' first line: {"what": "hardware", "machine": describe()}."""
    return json.dumps({"what": "hardware", "machine": describe()})
