"""What a script does first, before anything imports TensorFlow: `quiet_start()`.

TensorFlow writes its C++ start-up notices (oneDNN, missing CUDA drivers, and on a
machine without a GPU a "failed call to cuInit" error) to the process's standard
error while it loads, before any logging setting applies. Every script calls
`quiet_start()` at its top so that the first thing a run prints is its own line
saying where it runs. This module imports nothing heavy; only the call imports
TensorFlow.
"""
import os
import sys
import tempfile
import warnings


def quiet_start():
    """Import TensorFlow and look up its devices with standard error held back in a
    temporary file (shown after all if the import fails), then keep TensorFlow to its
    warnings and errors; a user who sets TF_CPP_MIN_LOG_LEVEL gets TensorFlow's own
    behaviour instead. Also ignore Keras' warning on every `fit` of a tf.data pipeline
    that its default shuffle=True does not apply (lib/data.py's pipelines shuffle)."""
    warnings.filterwarnings("ignore", message="`shuffle=True` was passed")
    if "TF_CPP_MIN_LOG_LEVEL" in os.environ:  # the user's choice, or a second call
        return
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"  # afterwards: TensorFlow's warnings and errors only
    sys.stderr.flush()
    standard_error = os.dup(2)
    with tempfile.TemporaryFile() as held_back:
        os.dup2(held_back.fileno(), 2)
        try:
            import tensorflow as tf
            tf.config.list_physical_devices()
        except BaseException:
            os.dup2(standard_error, 2)
            held_back.seek(0)
            sys.stderr.write(held_back.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(standard_error, 2)
            os.close(standard_error)
