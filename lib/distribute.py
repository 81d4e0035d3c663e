"""Where a run trains: one device, several GPUs, several machines or a TPU (--distribute).

`strategy_for` gives the tf.distribute strategy of a --distribute choice. A script
builds and compiles its models in the strategy's scope (`with cli.device_strategy(args).scope():`)
and Keras' `fit` does the rest: it splits every batch among the replicas, so
--batch-size stays the global batch, runs the step on each and sums the gradients.
Keras' own losses and metrics are distribution-aware; the GAN steps of lib/gan.py,
lib/stackedgan.py and lib/cyclegan.py are too (per-replica noise, losses divided by
the number of replicas, batch normalization synchronized across replicas). Every
network with batch normalization builds it with lib/layers.py's `batch_normalization()`.
"""
import functools
import json
import os

import keras
import tensorflow as tf


STRATEGIES = ("auto", "none", "mirrored", "multiworker", "tpu")
PUBLIC_STRATEGIES = {  # the names users know (TensorFlow's classes have others)
    "MultiWorkerMirroredStrategy": tf.distribute.MultiWorkerMirroredStrategy,
    "MirroredStrategy": tf.distribute.MirroredStrategy,
    "TPUStrategy": tf.distribute.TPUStrategy,
}


class UnavailableStrategy(ValueError):
    """The asked-for strategy cannot run here (no TPU, no TF_CONFIG, ...)."""


def strategy_for(kind, tpu_address="local"):
    """The strategy of a --distribute choice:

    auto: MirroredStrategy when TensorFlow sees more than one GPU, else one device;
    none: one device (TensorFlow's default strategy);
    mirrored: MirroredStrategy over every GPU, or with none every logical CPU device;
    multiworker: MultiWorkerMirroredStrategy over the cluster TF_CONFIG describes (it
        must be created before TensorFlow runs anything, so this comes first in a run);
    tpu: TPUStrategy on the TPU at tpu_address ("local": a TPU VM's own).
    """
    if kind == "auto":
        kind = "mirrored" if len(tf.config.list_physical_devices("GPU")) > 1 else "none"
    if kind == "none":
        return tf.distribute.get_strategy()
    if kind == "mirrored":
        devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
        return mirrored_strategy(tuple(device.name for device in devices))
    if kind == "multiworker":
        check_tf_config(os.environ.get("TF_CONFIG"))
        return MultiWorkerStrategy()
    if kind == "tpu":
        return tpu_strategy(tpu_address)
    raise ValueError(f"--distribute must be one of {', '.join(STRATEGIES)}, got {kind!r}")


class MultiWorkerStrategy(tf.distribute.MultiWorkerMirroredStrategy):
    """MultiWorkerMirroredStrategy that makes the two reductions Keras 3's `fit` asks of it
    and TensorFlow 2.21's refuses (keras-team/keras#20585): a whole (x, y) batch, reduced
    once to build the model, and the scalar logs of every step, reduced along axis 0.
    Each value of a nested structure is reduced on its own, a scalar across replicas."""

    def reduce(self, reduce_op, value, axis):
        def reduce_one(per_replica):
            is_scalar = len(self.experimental_local_results(per_replica)[0].shape) == 0
            return super(MultiWorkerStrategy, self).reduce(reduce_op, per_replica,
                                                           None if is_scalar else axis)

        return tf.nest.map_structure(reduce_one, value)


@functools.cache
def mirrored_strategy(devices):
    """One MirroredStrategy per set of devices for the whole process: TensorFlow numbers
    its collective operations per process, and a second strategy on the same devices
    (a second main() in a notebook or a test) would reuse the first one's numbers."""
    return tf.distribute.MirroredStrategy(list(devices))


def check_tf_config(text):
    """UnavailableStrategy unless `text` is a TF_CONFIG with a cluster and this task."""
    if not text:
        raise UnavailableStrategy(
            "--distribute multiworker reads the cluster from the TF_CONFIG environment variable, "
            "which is not set (see docs/hardware.md, 'Several machines')")
    try:
        config = json.loads(text)
        task = config["task"]
        workers = config["cluster"][task["type"]]
        workers[int(task["index"])]
    except (ValueError, KeyError, IndexError, TypeError) as error:
        raise UnavailableStrategy(
            f"TF_CONFIG must be JSON with a 'cluster' of address lists and this process's "
            f"'task' (type and index) in it: {type(error).__name__}: {error}") from None


def tpu_strategy(tpu_address):
    """TPUStrategy on the TPU at tpu_address, or UnavailableStrategy saying why not."""
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu_address)
        if tpu_address != "local":
            tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, RuntimeError, tf.errors.OpError) as error:
        raise UnavailableStrategy(f"--distribute tpu: no TPU at {tpu_address!r} "
                                  f"({str(error).splitlines()[0].split('. ')[0][:200]})") from None
    return tf.distribute.TPUStrategy(resolver)


def is_distributed(strategy):
    """Whether a strategy is one of tf.distribute's, not the default one device (asked
    outside any strategy's scope)."""
    return strategy is not tf.distribute.get_strategy()


def cluster_task(tf_config):
    """(type, index) of this process's task in a TF_CONFIG, or None for the chief (the
    "chief" task, else worker 0), outside a cluster and for a TF_CONFIG that names none
    (--distribute multiworker then says what is wrong with it)."""
    try:
        config = json.loads(tf_config or "{}")
        task_type, index, cluster = config["task"]["type"], int(config["task"]["index"]), config["cluster"]
    except (ValueError, KeyError, TypeError):
        return None
    if task_type == "chief" or (task_type == "worker" and index == 0 and "chief" not in cluster):
        return None
    return task_type, index


def where_it_runs(strategy, precision, jit_compile):
    """One line: the devices a run uses, how many replicas train, the precision (as
    lib/hardware.py describes it: "float32", or what auto chose and why), XLA."""
    if is_distributed(strategy):
        devices = ", ".join(strategy.extended.worker_devices)
        role = (cluster_task(os.environ.get("TF_CONFIG"))
                if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) else None)
        worker = f", {role[0]} {role[1]}" if role else ""
        kind = next(name for name, public in PUBLIC_STRATEGIES.items() if isinstance(strategy, public))
        place = f"{devices} ({kind}{worker})"
    else:
        devices = keras.distribution.list_devices()  # GPUs (or TPUs) when there are, else the CPU
        found = f" ({len(devices)} devices found, one used)" if len(devices) > 1 else ""
        place = f"{devices[0]}{found}"
    replicas = strategy.num_replicas_in_sync
    return (f"Running on {place}: {replicas} replica{'s' if replicas > 1 else ''}, "
            f"precision {precision}, XLA {'on' if jit_compile else 'off'}")
